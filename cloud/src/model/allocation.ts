/** What one location asks of its pool's port range. */
export interface AllocationRequest {
  readonly locationId: string;
  /** Services that need a port (valid ones). */
  readonly services: readonly string[];
  /** Services that keep a port they already hold but get no new one (declared, currently invalid). */
  readonly holdOnly?: readonly string[];
}

/** A port some location held before this reconcile, and where that was written. */
export interface PortClaim {
  readonly locationId: string;
  readonly service: string;
  readonly port: number;
  /** `status`: the location's status tag (authoritative); `route`: a gateway route (fallback). */
  readonly source: 'status' | 'route';
}

/** The input of allocatePorts for one pool. */
export interface AllocationInput {
  readonly firstPort: number;
  readonly lastPort: number;
  readonly requests: readonly AllocationRequest[];
  readonly claims: readonly PortClaim[];
  /** Ports in use by routes the controller does not manage: never handed out. */
  readonly blocked?: ReadonlySet<number>;
}

/** Ports by location and service, and the services left without one because the range is full. */
export interface AllocationResult {
  readonly ports: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly exhausted: ReadonlyMap<string, readonly string[]>;
}

const byLocationThenService = (a: { locationId: string; service: string }, b: typeof a): number =>
  a.locationId < b.locationId
    ? -1
    : a.locationId > b.locationId
      ? 1
      : a.service < b.service
        ? -1
        : a.service > b.service
          ? 1
          : 0;

/**
 * Allocates one port per location service in [firstPort, lastPort], keeping every valid earlier claim so ports
 * are stable across reconciles and restarts. Status claims beat route claims; between equal claims on one port
 * the smaller (location, service) keeps it and the other is moved. New services take the lowest free port in
 * (location, service) order; when none is left they are reported in `exhausted` and nobody else is affected.
 */
export function allocatePorts(input: AllocationInput): AllocationResult {
  const wanted = new Set<string>();
  const newcomers: { locationId: string; service: string }[] = [];
  for (const request of input.requests) {
    for (const service of request.services) {
      wanted.add(key(request.locationId, service));
      newcomers.push({ locationId: request.locationId, service });
    }
    for (const service of request.holdOnly ?? []) wanted.add(key(request.locationId, service));
  }
  const taken = new Set<number>();
  const ports = new Map<string, Map<string, number>>();
  const assign = (locationId: string, service: string, port: number) => {
    taken.add(port);
    let forLocation = ports.get(locationId);
    if (!forLocation) ports.set(locationId, (forLocation = new Map()));
    forLocation.set(service, port);
  };
  const has = (locationId: string, service: string) => ports.get(locationId)?.has(service) === true;

  const claims = [...input.claims].sort((a, b) =>
    a.source !== b.source ? (a.source === 'status' ? -1 : 1) : byLocationThenService(a, b),
  );
  for (const c of claims) {
    if (!wanted.has(key(c.locationId, c.service)) || has(c.locationId, c.service)) continue;
    if (!Number.isInteger(c.port) || c.port < input.firstPort || c.port > input.lastPort) continue;
    if (taken.has(c.port) || input.blocked?.has(c.port)) continue;
    assign(c.locationId, c.service, c.port);
  }

  const exhausted = new Map<string, string[]>();
  let cursor = input.firstPort;
  for (const n of newcomers.sort(byLocationThenService)) {
    if (has(n.locationId, n.service)) continue;
    // Ports only get taken during this loop, so the lowest free port never moves backwards.
    while (cursor <= input.lastPort && (taken.has(cursor) || input.blocked?.has(cursor))) cursor++;
    if (cursor > input.lastPort) {
      exhausted.set(n.locationId, [...(exhausted.get(n.locationId) ?? []), n.service]);
      continue;
    }
    assign(n.locationId, n.service, cursor);
  }
  return { ports, exhausted };
}

function key(locationId: string, service: string): string {
  return `${locationId}\u0000${service}`;
}
