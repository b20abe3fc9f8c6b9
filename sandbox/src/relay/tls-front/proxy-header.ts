// The TLS fronts hand each decrypted connection to the relay core over a local socket; the core must still see
// the client's address (the accept message's remoteEndpoint), so the front writes HAProxy's PROXY protocol v1
// line first, the common way for a TLS terminator to pass it on.

/** Longest PROXY v1 line the specification allows, CRLF included. */
export const MAX_PROXY_HEADER_BYTES = 107;

/** The client address a front saw. */
export interface ProxiedPeer {
  readonly address: string;
  readonly port: number;
}

/** Encodes `PROXY TCP4|TCP6 src dst sport dport\r\n`. */
export function encodeProxyHeader(source: ProxiedPeer, destination: ProxiedPeer): string {
  const family = source.address.includes(':') ? 'TCP6' : 'TCP4';
  return `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`;
}

/** Result of {@link parseProxyHeader}: the peer and the bytes after the line, or undefined while incomplete. */
export type ProxyHeaderParse =
  | { readonly ok: true; readonly peer: ProxiedPeer | undefined; readonly rest: Buffer }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a PROXY v1 line at the start of `bytes`. Returns undefined until the CRLF has arrived; `peer` is
 * undefined for `PROXY UNKNOWN`. Never throws.
 */
export function parseProxyHeader(bytes: Buffer): ProxyHeaderParse | undefined {
  const end = bytes.indexOf('\r\n');
  if (end < 0)
    return bytes.length >= MAX_PROXY_HEADER_BYTES ? { ok: false, reason: 'PROXY line too long' } : undefined;
  const line = bytes.subarray(0, end).toString('latin1');
  const rest = bytes.subarray(end + 2);
  const parts = line.split(' ');
  if (parts[0] !== 'PROXY') return { ok: false, reason: 'not a PROXY line' };
  if (parts[1] === 'UNKNOWN') return { ok: true, peer: undefined, rest };
  if ((parts[1] !== 'TCP4' && parts[1] !== 'TCP6') || parts.length !== 6)
    return { ok: false, reason: 'malformed PROXY line' };
  const port = Number(parts[4]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return { ok: false, reason: 'bad source port' };
  return { ok: true, peer: { address: parts[2]!, port }, rest };
}
