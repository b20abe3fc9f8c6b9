// Readiness of a gateway for the load-balancer probe (/readyz): what makes it ready, and when the relay counts as
// unreachable. docs/observability.md ("What each module exports") says the same in prose.
import { isRelayError, type RelayErrorCode } from '../../common/src/hc/errors';
import { ModuleReadiness } from '../../common/src/health/module-readiness';
import { NOT_READY } from '../../common/src/health/readiness';
import type { Gateway } from './gateway';
import type { RouteState } from './route';

/** Reason codes a gateway reports (the shared ones plus `routes_not_listening`). */
export const GATEWAY_NOT_READY = {
  ...NOT_READY,
  /** An enabled route has no listening port (refused: port taken or address missing; or still starting). */
  routesNotListening: 'routes_not_listening',
} as const;

/** How long a relay failure keeps the gateway not ready when no later attempt says otherwise (default). */
export const DEFAULT_RELAY_FAILURE_HOLD_MS = 30_000;

/** Relay errors that say this gateway cannot use the relay: its credential is refused, or the relay cannot be reached. */
const AUTH_CODES: ReadonlySet<RelayErrorCode> = new Set([
  'RELAY_UNAUTHORIZED',
  'RELAY_FORBIDDEN',
  'RELAY_TOKEN_EXPIRED',
  'RELAY_BAD_TOKEN',
]);
const NETWORK_CODES: ReadonlySet<RelayErrorCode> = new Set([
  'RELAY_NETWORK',
  'RELAY_SERVER_ERROR',
  'RELAY_TIMEOUT',
]);

/** What a tunnel attempt proved about the relay: unusable (auth or network), reachable, or nothing. */
export type RelayVerdict =
  | { readonly kind: 'unreachable'; readonly cause: 'auth' | 'network'; readonly code: string }
  | { readonly kind: 'reachable' }
  | { readonly kind: 'unknown' };

/**
 * Classifies a failed tunnel attempt. Auth (401/403, expired or unusable token) and network failures (socket
 * errors, 5xx, handshake timeout) make the relay unreachable; any other relay status (404 no listener, a
 * listener's reject) and every failure reported by the forwarder prove the relay answered. Aborts (client left,
 * gateway stopping, the route's connect timeout) prove nothing.
 */
export function relayVerdict(error: unknown): RelayVerdict {
  if (isRelayError(error)) {
    if (AUTH_CODES.has(error.code)) return { kind: 'unreachable', cause: 'auth', code: error.code };
    if (NETWORK_CODES.has(error.code)) return { kind: 'unreachable', cause: 'network', code: error.code };
    return error.code === 'RELAY_ABORTED' ? { kind: 'unknown' } : { kind: 'reachable' };
  }
  const code = (error as { code?: unknown } | null)?.code;
  // A TunnelError means a forwarder answered through the relay; TUNNEL_ABORTED is our own abort.
  if (typeof code === 'string' && code.startsWith('TUNNEL_') && code !== 'TUNNEL_ABORTED')
    return { kind: 'reachable' };
  return { kind: 'unknown' };
}

/** Options for GatewayReadiness. */
export interface GatewayReadinessOptions {
  /**
   * How long the last failed attempt keeps a hybrid connection "unreachable" with no newer attempt (default 30 s).
   * A not-ready gateway gets no new clients from the load balancer, so without this bound it could never learn
   * that the relay is back: after it, the gateway reports ready and the next client re-tests the relay.
   */
  readonly relayFailureHoldMs?: number;
  /** Clock (tests). */
  readonly nowMs?: () => number;
}

interface RelayFailure {
  readonly cause: 'auth' | 'network';
  readonly code: string;
  readonly atMs: number;
}

/**
 * Readiness of one gateway. Ready when: a good configuration was applied; every enabled route is listening; and
 * no hybrid connection used by an enabled route has its latest tunnel attempt (within `relayFailureHoldMs`) failed
 * with an auth or network error. Not ready while shutting down. `check` plugs into startHealthServer; `reasons`
 * and `onChange` feed reported properties.
 */
export class GatewayReadiness extends ModuleReadiness<Gateway> {
  private readonly holdMs: number;
  private readonly nowMs: () => number;
  private readonly failures = new Map<string, RelayFailure>();
  private gateway: Gateway | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: GatewayReadinessOptions = {}) {
    super();
    this.holdMs = options.relayFailureHoldMs ?? DEFAULT_RELAY_FAILURE_HOLD_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Follows `gateway` from now on (its current state is taken at once); returns the detach function. */
  override attach(gateway: Gateway): () => void {
    this.unsubscribe?.();
    this.gateway = gateway;
    const update = (): void => this.update();
    const onFailed = (event: { routeId: string; error: unknown }): void => {
      const hc = gateway.currentConfig.routes.get(event.routeId)?.hybridConnection;
      if (hc === undefined) return;
      const verdict = relayVerdict(event.error);
      if (verdict.kind === 'unreachable')
        this.failures.set(hc, { cause: verdict.cause, code: verdict.code, atMs: this.nowMs() });
      else if (verdict.kind === 'reachable') this.failures.delete(hc);
      this.update();
    };
    const onOpen = (event: { routeId: string }): void => {
      const hc = gateway.currentConfig.routes.get(event.routeId)?.hybridConnection;
      if (hc !== undefined && this.failures.delete(hc)) this.update();
    };
    const onApplied = (event: { diff: { credentialsChanged: readonly string[] } }): void => {
      // A new credential or endpoint deserves a fresh start.
      for (const hc of event.diff.credentialsChanged) this.failures.delete(hc);
      this.update();
    };
    gateway.on('route-state', update);
    gateway.on('applied', onApplied);
    gateway.on('tunnel-failed', onFailed);
    gateway.on('tunnel-open', onOpen);
    this.update();
    this.unsubscribe = () => {
      gateway.off('route-state', update);
      gateway.off('applied', onApplied);
      gateway.off('tunnel-failed', onFailed);
      gateway.off('tunnel-open', onOpen);
      clearTimeout(this.expiryTimer);
      this.unsubscribe = undefined;
    };
    return this.unsubscribe;
  }

  private update(): void {
    const gateway = this.gateway;
    if (!gateway) return;
    const state = gateway.state();
    if (state.configured) this.tracker.ready(NOT_READY.noConfiguration);
    const config = gateway.currentConfig;
    const enabled = [...config.routes.values()].filter((route) => route.enabled);

    const notListening = enabled
      .map((route) => state.routes[route.id])
      .filter((route): route is RouteState => route !== undefined && route.status !== 'listening');
    if (notListening.length === 0) this.tracker.ready(GATEWAY_NOT_READY.routesNotListening);
    else
      this.tracker.notReady(
        GATEWAY_NOT_READY.routesNotListening,
        `routes not listening: ${notListening.map(describeRoute).join(', ')}`,
      );

    const now = this.nowMs();
    const inUse = new Set(enabled.map((route) => route.hybridConnection));
    for (const [hc, failure] of this.failures)
      if (!inUse.has(hc) || now - failure.atMs >= this.holdMs) this.failures.delete(hc);
    clearTimeout(this.expiryTimer);
    if (this.failures.size === 0) {
      this.tracker.ready(NOT_READY.relayUnreachable);
      return;
    }
    const failing = [...this.failures].sort(([a], [b]) => a.localeCompare(b));
    this.tracker.notReady(
      NOT_READY.relayUnreachable,
      `relay unreachable for ${failing.map(([hc, f]) => `${hc} (${f.cause}: ${f.code})`).join(', ')}`,
    );
    const nextExpiryMs = Math.min(...failing.map(([, f]) => f.atMs + this.holdMs)) - now;
    this.expiryTimer = setTimeout(() => this.update(), Math.max(0, nextExpiryMs));
    this.expiryTimer.unref();
  }
}

/** Creates readiness for `gateway` and attaches it. */
export function readinessFor(gateway: Gateway, options: GatewayReadinessOptions = {}): GatewayReadiness {
  const readiness = new GatewayReadiness(options);
  readiness.attach(gateway);
  return readiness;
}

function describeRoute(route: RouteState): string {
  return route.error ? `${route.id} (${route.status}: ${route.error.code})` : `${route.id} (${route.status})`;
}
