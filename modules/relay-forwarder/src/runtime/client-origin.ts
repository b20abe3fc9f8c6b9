import type { Socket } from 'node:net';
import type { Logger } from '../../../common/src/log';
import {
  encodeProxyHeader,
  type ProxyProtocolVersion,
  type SocketEndpoint,
} from '../../../common/src/net/proxy-protocol';
import { readClientAddress } from '../../../common/src/tunnel/client-address';
import type { ConnectHeaders } from '../../../common/src/tunnel/half-close';

/** The public client a tunnel's sender announced, as an endpoint and as its log text. */
export interface TunnelClient {
  readonly endpoint: SocketEndpoint;
  readonly text: string;
}

/**
 * Reads the gateway's `x-hrf-client` claim. A malformed value is logged and dropped (the tunnel still runs, as
 * for a gateway that sends none): it is metadata for logs and the PROXY header, never a reason to grant access.
 */
export function clientOfTunnel(
  headers: ConnectHeaders,
  log: Logger,
  tunnelId: string,
): TunnelClient | undefined {
  const claim = readClientAddress(headers);
  if (claim.kind === 'malformed') {
    log.warn({ tunnelId, reason: claim.message }, 'client address header ignored');
    return undefined;
  }
  if (claim.kind === 'absent') return undefined;
  const { address, port } = claim.endpoint;
  return {
    endpoint: claim.endpoint,
    text: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
  };
}

/**
 * Writes the PROXY header to a freshly dialed target before any tunnel byte. The destination is the target as
 * dialed (the gateway's public address does not travel); without a client (or for a unix socket target) the
 * header says v1 `UNKNOWN` / v2 `LOCAL`, which PROXY-aware targets accept as "address not known".
 */
export function sendProxyHeader(
  socket: Socket,
  version: ProxyProtocolVersion,
  client: SocketEndpoint | undefined,
): void {
  const { remoteAddress, remotePort } = socket;
  const destination =
    remoteAddress !== undefined && remotePort !== undefined
      ? { address: remoteAddress, port: remotePort }
      : undefined;
  socket.write(encodeProxyHeader(version, client, destination));
}
