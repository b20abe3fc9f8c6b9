// One request for a service, whichever way it came (a classic connection's preamble, a multiplexed stream's
// OPEN): the service lookup, its mode, enabled flag and connection limit, each refusal with its precise close
// code, and the hand-over to the TCP or UDP serving of the chosen service.
import type { Duplex } from 'node:stream';
import { TunnelCloseCode } from '../../../common/src/tunnel/close-codes';
import type { ListenerTunnelRequest } from '../../../common/src/tunnel/listener-tunnel';
import { PreambleMode, type PreambleModeValue } from '../../../common/src/tunnel/preamble';
import type { ServiceConfig } from '../config/types';
import { who, type RequestClient } from './request-client';
import type { TunnelSessionHost } from './session-host';
import { SessionTunnel } from './session-tunnel';
import type { ConnectionRefusalReason, ServiceRefusalReason } from './stats';
import { serveTcpTunnel } from './tcp-tunnel';
import { serveDatagrams } from './udp-session';

/**
 * Close code for a service that is configured but `enabled: false`. Distinct from 4404 so the gateway can tell
 * "switched off on purpose" from "no such service"; 403 because the listener knows the service and refuses it.
 */
export const SERVICE_DISABLED_CLOSE_CODE = 4403;

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

/** Answers a request with a failure close code, and counts and logs the refusal (bound to one request). */
export type RefuseRequest = (reason: ServiceRefusalReason, closeCode: number, text: string) => void;

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
    else await serveTcpTunnel(tunnelRequest, service, tunnel, counters, host, log, refuse, client);
  } finally {
    counters.active -= 1;
    host.unregister(tunnel);
    tunnel.finish();
  }
}

function modeMismatchReason(service: ServiceConfig): string {
  return service.udp ? 'service is udp: datagram mode expected' : 'service is tcp: stream mode expected';
}
