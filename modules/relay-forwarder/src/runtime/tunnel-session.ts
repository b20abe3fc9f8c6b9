import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { AcceptRequest } from '../../../common/src/hc/accept-message';
import type { Logger } from '../../../common/src/log';
import type { RepeatLog } from '../../../common/src/repeat-log';
import { dialTarget, formatTarget, TargetError, type DialFailureCause } from '../../../common/src/net/target';
import { TunnelCloseCode } from '../../../common/src/tunnel/close-codes';
import { isTunnelError } from '../../../common/src/tunnel/errors';
import { acceptListenerTunnel, type ListenerTunnelRequest } from '../../../common/src/tunnel/listener-tunnel';
import { pumpTunnel } from '../../../common/src/tunnel/pump';
import type { ServiceConfig } from '../config/types';
import type { Drainable } from './drain';
import { readClientCert } from '../../../common/src/tunnel/client-address';
import { clientOfTunnel, sendProxyHeader, type TunnelClient } from './client-origin';
import type { ConnectHeaders } from '../../../common/src/tunnel/half-close';
import { WARM_META_ANNOUNCE_FRAME, withWarmMeta } from '../../../common/src/tunnel/warm-meta';
import type { ConnectionRefusalReason, ServiceCounters, ServiceRefusalReason } from './stats';
import { PreambleMode, type PreambleModeValue } from '../../../common/src/tunnel/preamble';
import { serveDatagrams } from './udp-session';

/**
 * Close code for a service that is configured but `enabled: false`. Distinct from 4404 so the gateway can tell
 * "switched off on purpose" from "no such service"; 403 because the listener knows the service and refuses it.
 */
export const SERVICE_DISABLED_CLOSE_CODE = 4403;

/** What a session needs from the hybrid connection that accepted it. */
export interface TunnelSessionHost {
  /** Hybrid connection name (for logs and events). */
  readonly hybridConnection: string;
  /** The service for a port name under the configuration in force now. */
  service(portName: string): ServiceConfig | undefined;
  /** The counters of a configured service (created on first use). */
  counters(service: string): ServiceCounters;
  /** Counts a refusal that happened before a service was chosen. */
  refusedBeforeService(reason: ConnectionRefusalReason): void;
  /** Tracks a tunnel from the moment its dial starts until it ended. */
  register(tunnel: LiveTunnel): void;
  unregister(tunnel: LiveTunnel): void;
  readonly log: Logger;
  /**
   * Where refusals are logged (unknown service, disabled, busy, a failed dial, no usable preamble), summarised per
   * service and reason: they come as fast as senders can connect (issue 10, item 5).
   */
  readonly refusalLog: RepeatLog;
  readonly events: TunnelEventSink;
  /** How long a sender may take to send its preamble. */
  readonly preambleTimeoutMs?: number;
  /** The same for a warm connection (the gateway opened it ahead of a client and sends the preamble later). */
  readonly warmPreambleTimeoutMs?: number;
  /** Counts a warm connection on arrival. */
  countWarm?(): void;
  /** Streams served at once on one multiplexed connection (default 1,024); 0 refuses to multiplex. */
  readonly muxMaxStreams?: number;
  /** Counts a multiplexed connection on arrival. */
  countMux?(): void;
  /** Aborted when the hybrid connection shuts down: stops waiting for preambles. */
  readonly signal: AbortSignal;
  /** Datagram drops of udp flows (oversized, backlog) come in floods: summarized per service and cause. */
  readonly datagramLog?: RepeatLog;
  /** Dials a target; `dialTarget` unless a test needs a peer that never answers. */
  readonly dial?: typeof dialTarget;
}

/** A tunnel being dialed or pumped. */
export interface LiveTunnel extends Drainable {
  readonly id: string;
  readonly service: string;
  readonly startedAtMs: number;
  /** Live byte counters (0 while dialing). */
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
}

/** Receives what happens to tunnels (the forwarder turns these into events, logs and metrics). */
export interface TunnelEventSink {
  opened(info: TunnelOpenedEvent): void;
  closed(info: TunnelClosedEvent): void;
  refused(info: TunnelRefusedEvent): void;
}

/** Which tunnel an event is about; `tunnelId` is the relay tracking id (the sender's `sb-hc-id`). */
export interface TunnelIdentity {
  readonly hybridConnection: string;
  readonly service: string;
  readonly tunnelId: string;
}

/** W3C trace context the sender put on its connect request (`traceparent`, `tracestate`), for telemetry. */
export type TraceHeaders = Readonly<Record<string, string>>;

/** A tunnel was confirmed to its sender. */
export interface TunnelOpenedEvent extends TunnelIdentity {
  /** When the relay handed the connection over (epoch ms): connect latency and span start. */
  readonly acceptedAtMs: number;
  readonly traceHeaders?: TraceHeaders;
  /** Live byte counts of this tunnel (read them while it is open, e.g. for metrics of long transfers). */
  readonly live: { readonly bytesToTarget: number; readonly bytesFromTarget: number };
}

/** A confirmed tunnel ended. */
export interface TunnelClosedEvent extends TunnelIdentity {
  readonly ok: boolean;
  /** Error code when it did not end cleanly (e.g. TUNNEL_IDLE_TIMEOUT, TUNNEL_ABORTED). */
  readonly errorCode?: string;
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
  readonly durationMs: number;
}

/** A relay connection was answered with a failure close code instead of a tunnel. */
export interface TunnelRefusedEvent {
  readonly hybridConnection: string;
  readonly tunnelId: string;
  /** The port name asked for (absent when the preamble was unreadable). */
  readonly portName?: string;
  /** Set when the port name named a configured service. */
  readonly service?: string;
  readonly reason: ServiceRefusalReason | ConnectionRefusalReason;
  readonly closeCode: number;
  /** When the relay handed the connection over (epoch ms). */
  readonly acceptedAtMs: number;
  readonly traceHeaders?: TraceHeaders;
}

const CLOSE_CODE_BY_DIAL_CAUSE: Record<DialFailureCause, number> = {
  refused: TunnelCloseCode.TARGET_REFUSED,
  timeout: TunnelCloseCode.TARGET_TIMEOUT,
  dns: TunnelCloseCode.TARGET_UNRESOLVED,
  other: TunnelCloseCode.TARGET_ERROR,
};

const REFUSAL_BY_DIAL_CAUSE: Record<DialFailureCause, ServiceRefusalReason> = {
  refused: 'refused',
  timeout: 'timeout',
  dns: 'dns',
  other: 'target-error',
};

// Reasons travel to the sender: short, and never the target's address.
const REASON_BY_DIAL_CAUSE: Record<DialFailureCause, string> = {
  refused: 'target refused the connection',
  timeout: 'target connect timed out',
  dns: 'target name not resolved',
  other: 'target connect failed',
};

/**
 * Serves one relay connection the listener accepted: reads the preamble's port name, picks the service, enforces
 * its connection limit, dials its target, then confirms and pumps bytes or fails with the precise close code.
 * Never throws; everything is reported through the host.
 */
export async function runTunnelSession(
  ws: WebSocket,
  request: AcceptRequest,
  host: TunnelSessionHost,
): Promise<void> {
  const tunnelId = request.id;
  const acceptedAtMs = Date.now();
  const warm = isWarm(request.connectHeaders);
  if (warm) {
    host.countWarm?.();
    // Tells the gateway this listener reads client metadata before the preamble (docs/tunnel-protocol.md).
    if (ws.readyState === ws.OPEN) ws.send(WARM_META_ANNOUNCE_FRAME);
  }
  let { origin, client, log } = describeClient(request.connectHeaders, acceptedAtMs, host.log, tunnelId);
  const preambleTimeoutMs = warm ? host.warmPreambleTimeoutMs : host.preambleTimeoutMs;
  let tunnelRequest: ListenerTunnelRequest;
  try {
    tunnelRequest = await acceptListenerTunnel(ws, request.connectHeaders, {
      signal: host.signal,
      acceptMetadata: warm,
      // The mode is checked against the service below, so a mismatch gets a precise reason.
      acceptDatagram: true,
      ...(preambleTimeoutMs !== undefined && { preambleTimeoutMs }),
    });
  } catch (err) {
    const code = isTunnelError(err) ? err.code : 'unknown';
    if (isTunnelError(err) && (code === 'TUNNEL_BAD_PREAMBLE' || code === 'TUNNEL_HANDSHAKE_TIMEOUT')) {
      host.refusedBeforeService('bad-preamble');
      const closeCode =
        err.closeCode ??
        (code === 'TUNNEL_HANDSHAKE_TIMEOUT' ? TunnelCloseCode.IDLE_TIMEOUT : TunnelCloseCode.BAD_PREAMBLE);
      host.events.refused({
        hybridConnection: host.hybridConnection,
        tunnelId,
        reason: 'bad-preamble',
        closeCode,
        ...origin,
      });
    }
    host.refusalLog.record(
      'info',
      `preamble\n${code}`,
      { code, ...who(tunnelId, client) },
      'relay connection ended before a preamble was read',
    );
    return;
  }
  if (tunnelRequest.metadata) {
    // A warm connection's client arrived in-band: the same parsing and trust as connect headers from here on.
    const headers = withWarmMeta(request.connectHeaders, tunnelRequest.metadata);
    ({ origin, client, log } = describeClient(headers, acceptedAtMs, host.log, tunnelId));
  }
  await serveTunnelRequest(tunnelRequest, tunnelId, { origin, client, log }, host);
}

/** A request for a service, from a preamble (classic connection) or an `OPEN` frame (a multiplexed stream). */
export interface ServedRequest {
  readonly portName: string;
  /** Datagram mode comes only with a classic connection's preamble; a stream is always stream mode. */
  readonly mode?: PreambleModeValue;
  /** Aborted when the sender goes away before an answer. */
  readonly signal: AbortSignal;
  /** Answers with success and returns the byte stream; throws if the sender left. */
  confirm(): Duplex;
  /** Answers with a failure close code (see ListenerTunnelRequest.fail). */
  fail(cause: unknown, reason?: string): void;
}

/** Who a request's client is, as its headers say (see describeClient). */
export type RequestClient = ReturnType<typeof describeClient>;

/**
 * Serves a request whose port name is known: picks the service, enforces its connection limit, dials its target,
 * then confirms and pumps bytes or fails with the precise close code. Never throws.
 */
export async function serveTunnelRequest(
  tunnelRequest: ServedRequest,
  tunnelId: string,
  { origin, client, log }: RequestClient,
  host: TunnelSessionHost,
): Promise<void> {
  const portName = tunnelRequest.portName;
  const service = host.service(portName);
  const refuse = (
    reason: ServiceRefusalReason | ConnectionRefusalReason,
    closeCode: number,
    text: string,
  ): void => {
    tunnelRequest.fail(closeCode, text);
    host.events.refused({
      hybridConnection: host.hybridConnection,
      tunnelId,
      portName,
      ...(service && { service: service.name }),
      reason,
      closeCode,
      ...origin,
    });
    host.refusalLog.record(
      'info',
      `${portName}\n${reason}`,
      { portName, reason, closeCode, ...who(tunnelId, client) },
      'tunnel refused',
    );
  };
  if (!service) {
    host.refusedBeforeService('unknown-service');
    refuse('unknown-service', TunnelCloseCode.UNKNOWN_SERVICE, 'unknown service');
    return;
  }
  const wantsDatagrams = tunnelRequest.mode === PreambleMode.DATAGRAM;
  if (wantsDatagrams !== (service.udp !== undefined)) {
    // azbridge answers [0, 0, 1] / [0, 0, 255] here; we close with 4400 and say which mode the service takes.
    host.refusedBeforeService('bad-preamble');
    refuse('bad-preamble', TunnelCloseCode.BAD_PREAMBLE, modeMismatchReason(service));
    return;
  }
  const counters = host.counters(service.name);
  if (!service.enabled) {
    counters.refused.disabled += 1;
    refuse('disabled', SERVICE_DISABLED_CLOSE_CODE, 'service disabled');
    return;
  }
  if (counters.active >= service.maxConnections) {
    counters.refused.busy += 1;
    refuse('busy', TunnelCloseCode.SERVICE_BUSY, 'service at its connection limit');
    return;
  }

  // The slot is taken before the dial: dials in flight count against the limit like open tunnels.
  counters.active += 1;
  const tunnel = new SessionTunnel(tunnelId, service.name, origin);
  host.register(tunnel);
  try {
    // wantsDatagrams matched service.udp above, so a UDP service here always has a classic connection's request.
    if (service.udp)
      await serveDatagrams(
        tunnelRequest as ListenerTunnelRequest,
        service,
        service.udp,
        tunnel,
        counters,
        host,
        log,
        refuse,
      );
    else await serve(tunnelRequest, service, tunnel, counters, host, log, refuse, client);
  } finally {
    counters.active -= 1;
    host.unregister(tunnel);
    tunnel.finish();
  }
}

async function serve(
  tunnelRequest: ServedRequest,
  service: ServiceConfig,
  tunnel: SessionTunnel,
  counters: ServiceCounters,
  host: TunnelSessionHost,
  log: Logger,
  refuse: (reason: ServiceRefusalReason, closeCode: number, text: string) => void,
  client: TunnelClient | undefined,
): Promise<void> {
  // A drain or the sender leaving cancels the dial.
  const dialAbort = new AbortController();
  const onGone = (): void => dialAbort.abort();
  tunnelRequest.signal.addEventListener('abort', onGone, { once: true });
  tunnel.onAbort = () => dialAbort.abort();
  if (tunnel.aborted) dialAbort.abort();
  let socket;
  try {
    socket = await (host.dial ?? dialTarget)(service.target, {
      connectTimeoutMs: service.connectTimeoutMs,
      signal: dialAbort.signal,
    });
  } catch (err) {
    if (tunnel.aborted || tunnelRequest.signal.aborted) {
      // Not the target's fault: the tunnel is being drained, or the sender gave up waiting.
      tunnelRequest.fail(TunnelCloseCode.GOING_AWAY, 'going away');
      log.info({ portName: service.name, drained: tunnel.aborted }, 'dial cancelled');
      return;
    }
    const cause = err instanceof TargetError ? err.dialCause : 'other';
    counters.refused[REFUSAL_BY_DIAL_CAUSE[cause]] += 1;
    host.refusalLog.record(
      'warn',
      `${service.name}\ndial-${cause}`,
      {
        portName: service.name,
        target: formatTarget(service.target),
        code: (err as TargetError).code,
        err: String(err),
        ...who(tunnel.id, client),
      },
      'target dial failed',
    );
    refuse(REFUSAL_BY_DIAL_CAUSE[cause], CLOSE_CODE_BY_DIAL_CAUSE[cause], REASON_BY_DIAL_CAUSE[cause]);
    return;
  } finally {
    tunnelRequest.signal.removeEventListener('abort', onGone);
  }

  let duplex;
  try {
    duplex = tunnelRequest.confirm();
  } catch (err) {
    socket.destroy();
    log.info({ portName: service.name, err: String(err) }, 'sender left during the dial');
    return;
  }
  counters.accepted += 1;
  if (service.proxyProtocol) sendProxyHeader(socket, service.proxyProtocol, client?.endpoint);
  const pump = pumpTunnel(socket, duplex, { idleTimeoutMs: service.idleTimeoutMs });
  tunnel.attach(pump);
  const base = { hybridConnection: host.hybridConnection, service: service.name, tunnelId: tunnel.id };
  host.events.opened({ ...base, ...tunnel.origin, live: tunnel });
  log.debug({ portName: service.name }, 'tunnel open');
  const outcome = await pump.completion;
  counters.closed += 1;
  counters.bytesToTarget += outcome.relayToTcpBytes;
  counters.bytesFromTarget += outcome.tcpToRelayBytes;
  const durationMs = Date.now() - tunnel.startedAtMs;
  host.events.closed({
    ...base,
    ok: outcome.ok,
    ...(outcome.error && { errorCode: outcome.error.code }),
    bytesToTarget: outcome.relayToTcpBytes,
    bytesFromTarget: outcome.tcpToRelayBytes,
    durationMs,
  });
  const fields = { portName: service.name, ok: outcome.ok, code: outcome.error?.code, durationMs };
  // An abnormal end says why (target reset, relay lost, a message above the size bound, …), like the gateway's.
  if (outcome.ok) log.debug(fields, 'tunnel closed');
  else log.info(fields, 'tunnel ended abnormally');
}

function modeMismatchReason(service: ServiceConfig): string {
  return service.udp ? 'service is udp: datagram mode expected' : 'service is tcp: stream mode expected';
}

/** What a tunnel reports bytes through and is aborted by: a TCP pump or a UDP flow. */
export interface TunnelFlow {
  readonly relayToTcpBytes: number;
  readonly tcpToRelayBytes: number;
  abort(reason?: string): void;
}

/** A tunnel's registration with its host, from the dial (or flow set-up) until it ended. */
export class SessionTunnel implements LiveTunnel {
  readonly startedAtMs = Date.now();
  readonly done: Promise<void>;
  aborted = false;
  onAbort: (() => void) | undefined;
  private pump: TunnelFlow | undefined;
  private ended = false;
  private resolveDone!: () => void;

  constructor(
    readonly id: string,
    readonly service: string,
    readonly origin: { readonly acceptedAtMs: number; readonly traceHeaders?: TraceHeaders },
  ) {
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  }

  get bytesToTarget(): number {
    return this.pump?.relayToTcpBytes ?? 0;
  }

  get bytesFromTarget(): number {
    return this.pump?.tcpToRelayBytes ?? 0;
  }

  attach(pump: TunnelFlow): void {
    this.pump = pump;
    if (this.aborted) pump.abort('draining');
  }

  abort(reason: string): boolean {
    if (this.ended || this.aborted) return false;
    this.aborted = true;
    if (this.pump) this.pump.abort(reason);
    else this.onAbort?.();
    return true;
  }

  finish(): void {
    this.ended = true;
    this.resolveDone();
  }
}

/** The fields that name a tunnel in a summarised log line (the per-tunnel logger carries them otherwise). */
function who(
  tunnelId: string,
  client: TunnelClient | undefined,
): { tunnelId: string; clientAddress?: string } {
  return { tunnelId, ...(client && { clientAddress: client.text }) };
}

/** What a tunnel's connect headers (or a warm connection's metadata) say about its client. */
export function describeClient(
  headers: ConnectHeaders,
  acceptedAtMs: number,
  hostLog: Logger,
  tunnelId: string,
): {
  origin: { readonly acceptedAtMs: number; readonly traceHeaders?: TraceHeaders };
  client: TunnelClient | undefined;
  log: Logger;
} {
  const traceHeaders = traceHeadersOf(headers);
  // The gateway's claim of the public client: logged with every line of this tunnel, never trusted for access.
  const client = clientOfTunnel(headers, hostLog, tunnelId);
  const clientCert = readClientCert(headers);
  const log = hostLog.child({
    tunnelId,
    ...(client && { clientAddress: client.text }),
    ...(clientCert !== undefined && { clientCert }),
  });
  return { origin: { acceptedAtMs, ...(traceHeaders && { traceHeaders }) }, client, log };
}

const TRACE_HEADER_NAMES = ['traceparent', 'tracestate'];

// Only the trace context travels on in events: the rest of the sender's headers is none of telemetry's business.
function traceHeadersOf(headers: ConnectHeaders): TraceHeaders | undefined {
  if (!headers) return undefined;
  let found: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (TRACE_HEADER_NAMES.includes(lower) && typeof value === 'string') (found ??= {})[lower] = value;
  }
  return found;
}

/** Header a gateway sets on a connection it opens ahead of a client (see the gateway's warm pool). */
export const WARM_CONNECT_HEADER = 'x-hrf-warm';

function isWarm(headers: Readonly<Record<string, string>>): boolean {
  return Object.entries(headers).some(
    ([name, value]) => name.toLowerCase() === WARM_CONNECT_HEADER && value === '1',
  );
}
