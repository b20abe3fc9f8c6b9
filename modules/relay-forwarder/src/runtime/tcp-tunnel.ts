// A TCP service's side of an admitted request: dial the target (cancelled by a drain or the sender leaving), map
// a failed dial to its refusal and close code, then confirm, pump bytes both ways and report the outcome.
import type { Logger } from '../../../common/src/log';
import { dialTarget, formatTarget, TargetError, type DialFailureCause } from '../../../common/src/net/target';
import { TunnelCloseCode } from '../../../common/src/tunnel/close-codes';
import { pumpTunnel } from '../../../common/src/tunnel/pump';
import type { ServiceConfig } from '../config/types';
import { sendProxyHeader, type TunnelClient } from './client-origin';
import { who } from './request-client';
import type { RefuseRequest, ServedRequest } from './serve-request';
import type { TunnelSessionHost } from './session-host';
import type { SessionTunnel } from './session-tunnel';
import type { ServiceCounters, ServiceRefusalReason } from './stats';

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

/** Dials a TCP service's target for an admitted request, then confirms and pumps until either side ends. */
export async function serveTcpTunnel(
  tunnelRequest: ServedRequest,
  service: ServiceConfig,
  tunnel: SessionTunnel,
  counters: ServiceCounters,
  host: TunnelSessionHost,
  log: Logger,
  refuse: RefuseRequest,
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
