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

/**
 * Every pair of routes (by id, in id order) whose bindings overlap; each pair once. Only routes on the same port
 * are compared, so thousands of routes cost O(routes), not O(routes²).
 */
export function findPortConflicts(bindings: ReadonlyMap<string, Binding>): PortConflict[] {
  const byPort = new Map<number, string[]>();
  for (const [id, binding] of bindings) {
    if (binding.port === 0) continue;
    const ids = byPort.get(binding.port);
    if (ids) ids.push(id);
    else byPort.set(binding.port, [id]);
  }
  const conflicts: PortConflict[] = [];
  for (const unsorted of byPort.values()) {
    if (unsorted.length < 2) continue;
    const ids = unsorted.sort();
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = bindings.get(ids[i]!)!;
        const b = bindings.get(ids[j]!)!;
        if (bindingsOverlap(a, b)) conflicts.push({ first: ids[i]!, second: ids[j]!, port: a.port });
      }
    }
  }
  return conflicts.sort((x, y) => compare(x.first, y.first) || compare(x.second, y.second));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
