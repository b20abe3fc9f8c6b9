// One classic relay connection the listener accepted: a warm connection announced, its preamble (and a warm
// connection's in-band client metadata) read within the timeout, then the request served like any other.
import type WebSocket from 'ws';
import type { AcceptRequest } from '../../../common/src/hc/accept-message';
import { TunnelCloseCode } from '../../../common/src/tunnel/close-codes';
import { isTunnelError } from '../../../common/src/tunnel/errors';
import { acceptListenerTunnel, type ListenerTunnelRequest } from '../../../common/src/tunnel/listener-tunnel';
import { WARM_META_ANNOUNCE_FRAME, withWarmMeta } from '../../../common/src/tunnel/warm-meta';
import { describeClient, who } from './request-client';
import { serveTunnelRequest } from './serve-request';
import type { TunnelSessionHost } from './session-host';

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

/** Header a gateway sets on a connection it opens ahead of a client (see the gateway's warm pool). */
export const WARM_CONNECT_HEADER = 'x-hrf-warm';

function isWarm(headers: Readonly<Record<string, string>>): boolean {
  return Object.entries(headers).some(
    ([name, value]) => name.toLowerCase() === WARM_CONNECT_HEADER && value === '1',
  );
}
