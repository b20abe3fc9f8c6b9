import type { GatewayUdpRoute } from '../config/types';
import { sameUdpRoute } from './udp-config';
import { UdpRouteRuntime, type UdpRouteContext, type UdpRouteState } from './udp-route';

/** What an apply did to the UDP routes. */
export interface UdpRoutesChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  /** Routes whose socket could not be bound (their state's `error` says why). */
  readonly refused: readonly string[];
}

/**
 * The gateway's UDP routes, applied by difference: unchanged routes keep their socket and flows; a new port,
 * bind address, target (hybrid connection, service) or `enabled` rebinds the route (its flows end); other
 * settings apply in place. A refused route is retried on the next apply.
 */
export class UdpRoutes {
  private readonly routes = new Map<string, UdpRouteRuntime>();
  private current = new Map<string, GatewayUdpRoute>();

  constructor(private readonly context: UdpRouteContext) {}

  /** Applies the configured UDP routes (undefined: none). */
  async apply(next: ReadonlyMap<string, GatewayUdpRoute> | undefined): Promise<UdpRoutesChange> {
    const incoming = next ?? new Map<string, GatewayUdpRoute>();
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const work: Array<Promise<void>> = [];
    for (const id of this.current.keys()) {
      if (incoming.has(id)) continue;
      removed.push(id);
      work.push(this.routes.get(id)!.close());
      this.routes.delete(id);
    }
    const rebind: Array<[string, GatewayUdpRoute]> = [];
    for (const [id, route] of incoming) {
      const before = this.current.get(id);
      const runtime = this.routes.get(id);
      if (!before || !runtime) {
        added.push(id);
        rebind.push([id, route]);
      } else if (sameUdpRoute(before, route)) {
        if (runtime.state().status === 'refused') rebind.push([id, route]);
      } else {
        changed.push(id);
        if (needsRebind(before, route)) rebind.push([id, route]);
        else runtime.update(route);
      }
    }
    // Release every socket that moves before binding any, so two routes can swap ports in one apply.
    await Promise.all([...work, ...rebind.map(([id]) => this.routes.get(id)?.close())]);
    await Promise.all(
      rebind.map(([id, route]) => {
        const runtime = new UdpRouteRuntime(route, this.context);
        this.routes.set(id, runtime);
        return runtime.start();
      }),
    );
    this.current = new Map(incoming);
    const refused = [...this.routes.values()]
      .filter((r) => r.state().status === 'refused')
      .map((r) => r.state().id);
    return { added, removed, changed, refused: refused.sort() };
  }

  /** Closes every route and ends every flow. */
  async close(): Promise<void> {
    const routes = [...this.routes.values()];
    this.routes.clear();
    this.current = new Map();
    await Promise.all(routes.map((r) => r.close()));
  }

  /** Each route's state, by id (empty when none is configured). */
  state(): Record<string, UdpRouteState> {
    const out: Record<string, UdpRouteState> = {};
    for (const [id, route] of this.routes) out[id] = route.state();
    return out;
  }

  /** Flows open or opening over all UDP routes. */
  get activeFlows(): number {
    let total = 0;
    for (const route of this.routes.values()) total += route.activeFlows;
    return total;
  }

  /** The runtime of route `id` (tests, diagnostics). */
  route(id: string): UdpRouteRuntime | undefined {
    return this.routes.get(id);
  }
}

function needsRebind(a: GatewayUdpRoute, b: GatewayUdpRoute): boolean {
  return (
    a.port !== b.port ||
    a.bindAddress !== b.bindAddress ||
    a.enabled !== b.enabled ||
    a.hybridConnection !== b.hybridConnection ||
    a.service !== b.service
  );
}
