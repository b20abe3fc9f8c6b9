import type { IncomingMessage } from 'node:http';

/**
 * True when a request is a well-formed RFC 6455 upgrade. The relay checks this before holding a
 * sender's upgrade: a request ws would refuse later must be refused now, not after a rendezvous.
 */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

/** The sub-protocols a handshake offers, in order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * The sender's handshake headers for the accept message ("all HTTP headers that have been supplied to
 * the Relay endpoint by the sender"), with the sender's spelling. The token header is stripped, as the
 * service always strips `ServiceBusAuthorization`: a listener must never see the sender's credential.
 */
export function connectHeadersOf(req: IncomingMessage, strippedHeader?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'servicebusauthorization' || lower === strippedHeader) continue;
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === lower);
    if (existing !== undefined) headers[existing] = `${headers[existing]}, ${raw[i + 1]}`;
    else headers[name] = raw[i + 1]!;
  }
  return headers;
}

/** The sender's address and port as the relay sees them (IPv4-mapped IPv6 shown as IPv4). */
export function remoteEndpointOf(req: IncomingMessage): { address: string; port: number } {
  const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return { address, port: req.socket.remotePort ?? 0 };
}
