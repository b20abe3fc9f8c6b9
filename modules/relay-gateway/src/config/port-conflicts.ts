import { parseIpAddress } from '../../../common/src/net/cidr';

/** Where a route listens. */
export interface Binding {
  readonly port: number;
  readonly bindAddress: string;
}

/** Two routes whose listening sockets could not both be bound. */
export interface PortConflict {
  readonly first: string;
  readonly second: string;
  readonly port: number;
}

/**
 * True when two bindings cannot coexist on one host: the same port and the same address, or a wildcard that
 * covers the other. `0.0.0.0` covers every IPv4 address; `::` covers everything, because Node listens on `::`
 * dual-stack (IPv4 too). Port 0 never conflicts: the OS picks a free port for each.
 */
export function bindingsOverlap(a: Binding, b: Binding): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false;
  const x = parseIpAddress(a.bindAddress);
  const y = parseIpAddress(b.bindAddress);
  if (!x || !y) return false;
  const anyV6 = (ip: typeof x): boolean => ip.family === 6 && ip.value === 0n;
  if (anyV6(x) || anyV6(y)) return true;
  if (x.family !== y.family) return false;
  if (x.family === 4 && (x.value === 0n || y.value === 0n)) return true;
  return x.value === y.value;
}

/** Every pair of routes (by id, in id order) whose bindings overlap; each pair once. */
export function findPortConflicts(bindings: ReadonlyMap<string, Binding>): PortConflict[] {
  const ids = [...bindings.keys()].sort();
  const conflicts: PortConflict[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = bindings.get(ids[i]!)!;
      const b = bindings.get(ids[j]!)!;
      if (bindingsOverlap(a, b)) conflicts.push({ first: ids[i]!, second: ids[j]!, port: a.port });
    }
  }
  return conflicts;
}
