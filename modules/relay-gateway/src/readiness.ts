// Readiness of a gateway for the load-balancer probe (/readyz): only what makes this instance unable to serve.
// docs/relay-gateway.md ("What the load-balancer probe means") says the same in prose.
import { isRelayError, type RelayErrorCode } from '../../common/src/hc/errors';
import { ModuleReadiness } from '../../common/src/health/module-readiness';
import { NOT_READY } from '../../common/src/health/readiness';
import type { ConnectionEventBase, TunnelFailedEvent } from './events';
import type { Gateway } from './gateway';
import { RelayReachability, type RelayReachabilityOptions } from './relay-reachability';

/** Reason codes a gateway reports (the shared ones plus `not_accepting`). */
export const GATEWAY_NOT_READY = {
  ...NOT_READY,
  /** Enabled routes exist but not one of them has a listening port: this instance accepts nobody. */
  notAccepting: 'not_accepting',
} as const;

/** Relay failures at the network level: the relay did not answer (as opposed to answering with a refusal). */
const NETWORK_CODES: ReadonlySet<RelayErrorCode> = new Set([
  'RELAY_NETWORK',
  'RELAY_SERVER_ERROR',
  'RELAY_TIMEOUT',
]);

/** What a failed tunnel attempt proved about the relay: it did not answer, it answered, or nothing. */
export type RelayVerdict =
  | { readonly kind: 'unreachable'; readonly code: string }
  | { readonly kind: 'reachable' }
  | { readonly kind: 'unknown' };

/**
 * Classifies a failed tunnel attempt. Network failures (socket errors, 5xx, handshake timeout, and the route's
 * connect timeout passing before the relay answered: `relay-timeout`) say the relay is not answering. Any other
 * relay status (401/403, 404 no listener, a listener's reject) and every failure reported by the forwarder prove
 * the relay answered. Other aborts (client left, gateway stopping) prove nothing.
 */
export function relayVerdict(event: Pick<TunnelFailedEvent, 'reason' | 'error'>): RelayVerdict {
  const error = event.error;
  if (isRelayError(error)) {
    // 504/408: the relay answered that the listener was slow to accept, a fault of that hybrid connection.
    if (error.code === 'RELAY_TIMEOUT' && error.status !== undefined) return { kind: 'reachable' };
    if (NETWORK_CODES.has(error.code)) return { kind: 'unreachable', code: error.code };
    if (event.reason === 'relay-timeout') return { kind: 'unreachable', code: 'RELAY_TIMEOUT' };
    return error.code === 'RELAY_ABORTED' ? { kind: 'unknown' } : { kind: 'reachable' };
  }
  if (event.reason === 'relay-timeout') return { kind: 'unreachable', code: 'RELAY_TIMEOUT' };
  const code = (error as { code?: unknown } | null)?.code;
  // A TunnelError means a forwarder answered through the relay; TUNNEL_ABORTED is our own abort.
  if (typeof code === 'string' && code.startsWith('TUNNEL_') && code !== 'TUNNEL_ABORTED')
    return { kind: 'reachable' };
  return { kind: 'unknown' };
}

/** Options for GatewayReadiness. */
export type GatewayReadinessOptions = RelayReachabilityOptions & {
  /** Clock (tests). */
  readonly nowMs?: () => number;
};

/**
 * Readiness of one gateway instance. Not ready when: no good configuration was applied yet; enabled routes exist
 * but none is listening (`not_accepting`); the relay is unreachable from this instance (`relay_unreachable`, see
 * RelayReachability: handshakes of every namespace in use failing at the network level or unanswered for seconds);
 * shutting down. A route that cannot bind, a refused credential or a location without a listener are faults of
 * that route, reported with it (`state().routes[id].error` / `relayFault`, metrics, logs), never here: every
 * gateway of a pool carries the same routes, so they would take the whole pool out of the load balancer.
 * Recomputation is coalesced to at most one per event-loop turn, so N route changes cost O(N), not O(N²).
 */
export class GatewayReadiness extends ModuleReadiness<Gateway> {
  private readonly nowMs: () => number;
  private readonly reachability: RelayReachability;
  private gateway: Gateway | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private routesStale = false;
  private relayStale = false;
  /** Route-wide recomputations so far (tests assert they grow linearly, not quadratically, with route changes). */
  recomputations = 0;

  constructor(options: GatewayReadinessOptions = {}) {
    super();
    this.nowMs = options.nowMs ?? Date.now;
    this.reachability = new RelayReachability(options);
  }

  /** Follows `gateway` from now on (its current state is taken at once); returns the detach function. */
  override attach(gateway: Gateway): () => void {
    this.unsubscribe?.();
    this.gateway = gateway;
    const namespaceOf = (routeId: string): string | undefined => {
      const config = gateway.currentConfig;
      const hc = config.routes.get(routeId)?.hybridConnection;
      return hc === undefined ? undefined : config.hybridConnections.get(hc)?.namespace;
    };
    const schedule = (): void => this.schedule(true);
    const onConnection = (event: ConnectionEventBase): void => {
      const namespace = namespaceOf(event.routeId);
      if (namespace !== undefined) this.reachability.started(event.connectionId, namespace, this.nowMs());
      this.schedule(false);
    };
    const onAnswered = (event: ConnectionEventBase): void => {
      const namespace = namespaceOf(event.routeId);
      if (namespace !== undefined) this.reachability.answered(event.connectionId, namespace, this.nowMs());
      this.schedule(false);
    };
    const onFailed = (event: TunnelFailedEvent): void => {
      const namespace = namespaceOf(event.routeId);
      const verdict = relayVerdict(event);
      if (namespace === undefined || verdict.kind === 'unknown') this.reachability.forget(event.connectionId);
      else if (verdict.kind === 'reachable')
        this.reachability.answered(event.connectionId, namespace, this.nowMs());
      else this.reachability.failed(event.connectionId, namespace, verdict.code, this.nowMs());
      this.schedule(false);
    };
    const onApplied = (event: { diff: { credentialsChanged: readonly string[] } }): void => {
      // A new credential or endpoint deserves a fresh start.
      for (const hc of event.diff.credentialsChanged) {
        const namespace = gateway.currentConfig.hybridConnections.get(hc)?.namespace;
        if (namespace !== undefined) this.reachability.reset(namespace);
      }
      this.schedule(true);
    };
    gateway.on('route-state', schedule);
    gateway.on('applied', onApplied);
    gateway.on('connection', onConnection);
    gateway.on('relay-connected', onAnswered);
    gateway.on('tunnel-open', onAnswered);
    gateway.on('tunnel-failed', onFailed);
    this.update();
    this.unsubscribe = () => {
      gateway.off('route-state', schedule);
      gateway.off('applied', onApplied);
      gateway.off('connection', onConnection);
      gateway.off('relay-connected', onAnswered);
      gateway.off('tunnel-open', onAnswered);
      gateway.off('tunnel-failed', onFailed);
      clearTimeout(this.expiryTimer);
      if (this.scheduled) clearImmediate(this.scheduled);
      this.scheduled = undefined;
      this.unsubscribe = undefined;
    };
    return this.unsubscribe;
  }

  /** Why not ready now; pending recomputation runs first, so a probe never reads a stale answer. */
  override reasons(): ReturnType<ModuleReadiness<Gateway>['reasons']> {
    this.flush();
    return super.reasons();
  }

  /** True when no condition is open (pending recomputation runs first). */
  override isReady(): boolean {
    this.flush();
    return super.isReady();
  }

  /** Recomputes now whatever an event marked stale. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.routesStale) this.updateRoutes();
    if (this.relayStale) this.updateRelay();
  }

  private update(): void {
    this.routesStale = true;
    this.relayStale = true;
    this.flush();
  }

  // O(routes): runs at most once per event-loop turn whatever the number of route changes in it.
  private updateRoutes(): void {
    this.routesStale = false;
    const gateway = this.gateway;
    if (!gateway) return;
    this.recomputations += 1;
    const config = gateway.currentConfig;
    if (gateway.isConfigured) this.tracker.ready(NOT_READY.noConfiguration);

    const statuses = gateway.routeStatuses();
    let enabled = 0;
    let listening = 0;
    const inUse = new Set<string>();
    for (const route of config.routes.values()) {
      if (!route.enabled) continue;
      enabled += 1;
      if (statuses.get(route.id) === 'listening') listening += 1;
      const namespace = config.hybridConnections.get(route.hybridConnection)?.namespace;
      if (namespace !== undefined) inUse.add(namespace);
    }
    if (enabled === 0 || listening > 0) this.tracker.ready(GATEWAY_NOT_READY.notAccepting);
    else
      this.tracker.notReady(
        GATEWAY_NOT_READY.notAccepting,
        `none of the ${enabled} enabled routes is listening (each route's status says why)`,
      );
    this.reachability.retain(inUse);
    this.relayStale = true;
  }

  // O(namespaces + handshakes in flight).
  private updateRelay(): void {
    this.relayStale = false;
    if (!this.gateway) return;
    const now = this.nowMs();
    const verdict = this.reachability.verdict(now);
    if (verdict.unreachable) {
      const detail = verdict.unreachable
        .map((n) => `${n.namespace} (${n.failures} failures in a row, last ${n.code})`)
        .join(', ');
      this.tracker.notReady(NOT_READY.relayUnreachable, `relay unreachable from this instance: ${detail}`);
    } else this.tracker.ready(NOT_READY.relayUnreachable);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (verdict.nextChangeAtMs !== undefined) {
      this.expiryTimer = setTimeout(
        () => {
          this.relayStale = true;
          this.flush();
        },
        Math.max(0, verdict.nextChangeAtMs - now),
      );
      this.expiryTimer.unref();
    }
  }

  private schedule(routes: boolean): void {
    if (routes) this.routesStale = true;
    else this.relayStale = true;
    if (this.scheduled || !this.gateway) return;
    this.scheduled = setImmediate(() => this.flush());
  }
}

/** Creates readiness for `gateway` and attaches it. */
export function readinessFor(gateway: Gateway, options: GatewayReadinessOptions = {}): GatewayReadiness {
  const readiness = new GatewayReadiness(options);
  readiness.attach(gateway);
  return readiness;
}
