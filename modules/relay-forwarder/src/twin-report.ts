import type { JsonObject } from '../../common/src/twin/json';
import type { ReportDetail } from '../../common/src/twin/scrub';
import type { ForwarderState, HybridConnectionState } from './runtime/stats';

/** Relay answers that will not go away by retrying with the same configuration: the listeners are refused. */
const REFUSAL_CODES = new Set([
  'RELAY_UNAUTHORIZED',
  'RELAY_FORBIDDEN',
  'RELAY_NOT_FOUND',
  'RELAY_TOKEN_EXPIRED',
  'RELAY_BAD_TOKEN',
]);

/** Status of a hybrid connection as reported. */
export type ReportedHybridConnectionStatus =
  'listening' | 'partial' | 'connecting' | 'refused' | 'draining' | 'drained';

/** Status of a service as reported. */
export type ReportedServiceStatus = 'enabled' | 'disabled' | 'draining' | 'drained';

/** Operator drains the report has to show. */
export interface ForwarderDrains {
  /** Hybrid connections taken out of service: their control channels are closed, tunnels finishing. */
  readonly hybridConnections: ReadonlyMap<
    string,
    { readonly activeTunnels: number; readonly namespace: string; readonly path: string }
  >;
  /** `hc/service` keys of services disabled by an operator. */
  readonly services: ReadonlySet<string>;
}

/** A live hybrid connection's status from its control channels: all online, some, none yet, or refused by the relay. */
export function hybridConnectionStatus(hc: HybridConnectionState): ReportedHybridConnectionStatus {
  if (hc.onlineListeners >= hc.listeners) return 'listening';
  if (hc.onlineListeners > 0) return 'partial';
  return hc.lastError && REFUSAL_CODES.has(hc.lastError.code) ? 'refused' : 'connecting';
}

/** A service's status, given whether an operator drained it. */
export function serviceStatus(enabled: boolean, active: number, drained: boolean): ReportedServiceStatus {
  if (drained) return active > 0 ? 'draining' : 'drained';
  return enabled ? 'enabled' : 'disabled';
}

/**
 * The forwarder's part of the reported properties (pure): per hybrid connection its status, online listeners of
 * N, the relay's reason when it refuses them, and per service its target and status — with counters at full
 * detail, live tunnels only when compact, and only what is not healthy in a summary.
 */
export function forwarderReport(
  state: ForwarderState,
  drains: ForwarderDrains,
  detail: ReportDetail,
): JsonObject {
  const hybridConnections: JsonObject = {};
  for (const [name, hc] of Object.entries(state.hybridConnections)) {
    const status = hybridConnectionStatus(hc);
    if (detail === 'summary' && status === 'listening') continue;
    hybridConnections[name] = hybridConnectionEntry(hc, status, drains, detail);
  }
  for (const [name, drained] of drains.hybridConnections) {
    if (hybridConnections[name] !== undefined) continue;
    hybridConnections[name] = {
      status: drained.activeTunnels > 0 ? 'draining' : 'drained',
      namespace: drained.namespace,
      path: drained.path,
      activeTunnels: drained.activeTunnels,
    };
  }
  return { hybridConnections, drainingTunnels: state.drainingTunnels };
}

function hybridConnectionEntry(
  hc: HybridConnectionState,
  status: ReportedHybridConnectionStatus,
  drains: ForwarderDrains,
  detail: ReportDetail,
): JsonObject {
  const services: JsonObject = {};
  for (const [name, s] of Object.entries(hc.services)) {
    const entry: JsonObject = {
      status: serviceStatus(s.enabled, s.active, drains.services.has(`${hc.name}/${name}`)),
      target: s.target,
    };
    if (detail === 'full') {
      entry.counters = {
        accepted: s.accepted,
        active: s.active,
        closed: s.closed,
        ...nonZero('refused', s.refused),
        bytesToTarget: s.bytesToTarget,
        bytesFromTarget: s.bytesFromTarget,
        // A udp service's datagram counts (its drops only when there were some).
        ...(s.datagrams && {
          datagramsToTarget: s.datagrams.toTarget,
          datagramsFromTarget: s.datagrams.fromTarget,
          ...nonZero('datagramsDropped', s.datagrams.dropped),
        }),
      };
    } else entry.active = s.active;
    services[name] = entry;
  }
  return {
    status,
    namespace: hc.namespace,
    path: hc.path,
    onlineListeners: hc.onlineListeners,
    listeners: hc.listeners,
    // No timestamp here: a relay that keeps refusing must not cause a reported patch per attempt.
    ...(hc.lastError &&
      status !== 'listening' && { reason: { code: hc.lastError.code, message: hc.lastError.message } }),
    ...(hc.tokenExpiresAtMs !== undefined && { tokenExpiresAt: new Date(hc.tokenExpiresAtMs).toISOString() }),
    ...(detail === 'full' && {
      reconnects: hc.reconnects,
      tokenRenewals: hc.tokenRenewals,
      ...nonZero('refused', hc.refused),
    }),
    // Multiplexed connections from gateways, once one came: open now and their streams (docs/relay-forwarder.md).
    ...(hc.mux &&
      detail !== 'summary' && {
        mux: {
          connections: hc.mux.connections,
          streams: hc.mux.streams,
          ...(detail === 'full' && { maxStreams: hc.mux.maxStreams, accepted: hc.muxConnections ?? 0 }),
        },
      }),
    ...(detail !== 'summary' || Object.keys(services).length <= 20 ? { services } : {}),
  };
}

/** One stats entry per service, with route (`hc/service`), hybrid connection, location and service identifiers. */
export function forwarderStats(
  state: ForwarderState,
  drains: ForwarderDrains,
  location: string | undefined,
): JsonObject[] {
  const entries: JsonObject[] = [];
  for (const [name, hc] of Object.entries(state.hybridConnections)) {
    for (const [service, s] of Object.entries(hc.services)) {
      entries.push({
        route: `${name}/${service}`,
        hybridConnection: name,
        ...(location !== undefined && { location }),
        service,
        status: serviceStatus(s.enabled, s.active, drains.services.has(`${name}/${service}`)),
        onlineListeners: hc.onlineListeners,
        listeners: hc.listeners,
        active: s.active,
        accepted: s.accepted,
        refused: Object.values(s.refused).reduce((a, b) => a + b, 0),
        closed: s.closed,
        bytesToTarget: s.bytesToTarget,
        bytesFromTarget: s.bytesFromTarget,
      });
    }
  }
  return entries;
}

// Zero counts and empty maps are left out: IoT Hub does not keep an empty object, so it would be re-sent forever.
function nonZero(name: string, counts: Readonly<Record<string, number>>): JsonObject {
  const out: JsonObject = {};
  for (const [key, n] of Object.entries(counts)) if (n > 0) out[key] = n;
  return Object.keys(out).length > 0 ? { [name]: out } : {};
}
