import { isJsonObject, type JsonObject } from '../../common/src/twin/json';
import { methodError, methodOk, type MethodResult } from '../../common/src/twin/methods';
import type { ReportDetail } from '../../common/src/twin/scrub';
import type { ApplyOutcome, TwinModule } from '../../common/src/twin/twin-runner';
import { normalizeGatewayConfig } from './config/normalize';
import type { Gateway } from './gateway';
import { gatewayReport, gatewayStats, reportedRouteStatus } from './twin-report';

/**
 * An operator drain marks a route disabled in the document the gateway runs (its port closes, its connections
 * finish within `drainTimeoutMs`) without touching the desired properties; later desired versions keep the mark
 * until `resume`. The desired document is validated as sent, so a drain can never make a bad document pass.
 */
export function withDrainedRoutes(document: JsonObject, drained: ReadonlySet<string>): JsonObject {
  if (drained.size === 0 || !isJsonObject(document.routes)) return document;
  const routes: JsonObject = { ...document.routes };
  for (const id of drained) {
    const route = routes[id];
    if (isJsonObject(route)) routes[id] = { ...route, enabled: false };
  }
  return { ...document, routes };
}

/** relay-gateway as a TwinModule: desired documents, reported route state, stats and the drain/resume methods. */
export class GatewayTwinModule implements TwinModule {
  /** The last desired document that was valid (without drain marks). */
  private lastGood: JsonObject | undefined;
  private readonly drained = new Set<string>();
  readonly methods = {
    drain: (payload: JsonObject) => this.drain(payload),
    resume: (payload: JsonObject) => this.resume(payload),
  };

  constructor(private readonly gateway: Gateway) {}

  /** Route ids an operator drained (tests, status). */
  get drainedRoutes(): readonly string[] {
    return [...this.drained].sort();
  }

  async applyDesired(document: JsonObject): Promise<ApplyOutcome> {
    const checked = normalizeGatewayConfig(document);
    if (!checked.ok) {
      this.gateway.refuseDocument(checked.problems);
      return { ok: false, problems: checked.problems };
    }
    this.lastGood = document;
    // A drain mark dies with its route: a route added again later under the same id starts open.
    for (const id of [...this.drained]) if (!checked.config.routes.has(id)) this.drained.delete(id);
    return this.applyLastGood();
  }

  report(detail: ReportDetail): JsonObject {
    return gatewayReport(this.gateway.state(), this.drained, detail);
  }

  stats(): JsonObject[] {
    const hybridConnections = this.gateway.currentConfig.hybridConnections;
    return gatewayStats(this.gateway.state(), this.drained, (name) => hybridConnections.get(name)?.path);
  }

  onStateChange(listener: () => void): () => void {
    let signature = this.statusSignature();
    let stopped = false;
    // Route changes come in bursts (an apply of thousands of routes, a shutdown): one O(routes) look per
    // event-loop turn, never one per route, or the cost grows with the square of the route count.
    let scheduled: NodeJS.Immediate | undefined;
    let changed = false;
    const look = (): void => {
      scheduled = undefined;
      if (stopped) return;
      const now = this.statusSignature();
      if (!changed && now === signature) return;
      changed = false;
      signature = now;
      listener();
    };
    const onStatus = (): void => {
      changed = true;
      scheduled ??= setImmediate(look);
    };
    // Connections come and go all the time: only report when one ends a drain (draining → drained).
    // The event fires before the route has forgotten the connection: look once the current work is done.
    const onClosed = (): void => {
      if (this.drained.size > 0 || this.gateway.drainingRoutes > 0) scheduled ??= setImmediate(look);
    };
    this.gateway.on('route-state', onStatus);
    this.gateway.on('applied', onStatus);
    this.gateway.on('rejected', onStatus);
    this.gateway.on('connection-closed', onClosed);
    return () => {
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      this.gateway.off('route-state', onStatus);
      this.gateway.off('applied', onStatus);
      this.gateway.off('rejected', onStatus);
      this.gateway.off('connection-closed', onClosed);
    };
  }

  private async drain(payload: JsonObject): Promise<MethodResult> {
    const selected = this.select(payload, [...this.gateway.currentConfig.routes.keys()]);
    if ('status' in selected) return selected;
    for (const id of selected.ids) this.drained.add(id);
    await this.applyLastGood();
    return methodOk({ draining: selected.ids, routes: this.routeStatuses(selected.ids) });
  }

  private async resume(payload: JsonObject): Promise<MethodResult> {
    const selected = this.select(payload, [...this.drained]);
    if ('status' in selected) return selected;
    for (const id of selected.ids) this.drained.delete(id);
    await this.applyLastGood();
    return methodOk({ resumed: selected.ids, routes: this.routeStatuses(selected.ids) });
  }

  // `{ route: "id" }`, `{ routes: ["a", "b"] }`, or nothing for every route in `all`.
  private select(payload: JsonObject, all: readonly string[]): { ids: string[] } | MethodResult {
    if (!this.lastGood) return methodError(409, 'NOT_CONFIGURED', 'no configuration has been applied yet');
    const asked = payload.route !== undefined ? [payload.route] : payload.routes;
    if (asked === undefined) return { ids: [...all].sort() };
    if (!Array.isArray(asked) || !asked.every((id): id is string => typeof id === 'string'))
      return methodError(400, 'BAD_PAYLOAD', 'expected { "route": "<id>" } or { "routes": ["<id>", …] }');
    const unknown = asked.filter((id) => !this.gateway.currentConfig.routes.has(id));
    if (unknown.length > 0)
      return methodError(404, 'UNKNOWN_ROUTE', `no route ${unknown.map((id) => `"${id}"`).join(', ')}`);
    return { ids: [...new Set(asked)].sort() };
  }

  private async applyLastGood(): Promise<ApplyOutcome> {
    if (!this.lastGood) return { ok: true };
    const result = await this.gateway.applyDocument(withDrainedRoutes(this.lastGood, this.drained));
    return result.ok ? { ok: true } : { ok: false, problems: result.problems };
  }

  private routeStatuses(ids: readonly string[]): JsonObject {
    const state = this.gateway.state();
    const out: JsonObject = {};
    for (const id of ids) {
      const route = state.routes[id];
      if (route)
        out[id] = { status: reportedRouteStatus(route, this.drained.has(id)), active: route.counters.active };
    }
    return out;
  }

  private statusSignature(): string {
    const parts: string[] = [];
    for (const [id, status] of this.gateway.routeStatuses()) {
      // Only a drained route's status depends on its live connections (draining → drained).
      const drained = this.drained.has(id) ? (this.activeOf(id) > 0 ? 'draining' : 'drained') : status;
      parts.push(`${id}:${drained}`);
    }
    return `${parts.join(',')}|${this.gateway.drainingRoutes}`;
  }

  private activeOf(id: string): number {
    return this.gateway.activeConnectionsOf(id);
  }
}
