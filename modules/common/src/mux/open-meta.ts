import { WARM_META_HEADERS } from '../tunnel/warm-meta';
import { MUX_MAX_OPEN_BYTES } from './frame';

/** What an `OPEN` frame carries: the service's port name and the per-client headers of a cold connect request. */
export interface MuxOpenMeta {
  /** azbridge port name, 1–255 UTF-8 bytes. */
  readonly port: string;
  /** Lower-case per-client headers (`x-hrf-client`, `x-hrf-client-cert`, `traceparent`, `tracestate`). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The `OPEN` payload for `meta`, or undefined when it cannot travel (a header outside the four, or above 4 KiB). */
export function encodeOpenMeta(meta: MuxOpenMeta): Buffer | undefined {
  const portBytes = Buffer.byteLength(meta.port, 'utf8');
  if (portBytes < 1 || portBytes > 255) return undefined;
  // The warm metadata rules decide which headers may travel in-band (the same four names, lower case).
  const headers: Record<string, string> = {};
  for (const name of Object.keys(meta.headers)) {
    const lower = name.toLowerCase();
    if (!WARM_META_HEADERS.includes(lower)) return undefined;
    headers[lower] = meta.headers[name]!;
  }
  const payload = Buffer.from(JSON.stringify({ port: meta.port, headers }), 'utf8');
  return payload.length <= MUX_MAX_OPEN_BYTES ? payload : undefined;
}

/**
 * Parses an `OPEN` payload strictly: a JSON object with exactly `port` (a 1–255 byte string) and `headers` (an object
 * obeying the warm metadata rules: names among the four, string values). Returns the metadata or a reason the
 * session reports as a protocol error.
 */
export function decodeOpenMeta(payload: Buffer): MuxOpenMeta | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return { problem: 'OPEN payload is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: 'OPEN payload is not a JSON object' };
  const { port, headers, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return { problem: 'OPEN payload has an unknown name' };
  if (typeof port !== 'string' || port.length === 0 || Buffer.byteLength(port, 'utf8') > 255)
    return { problem: 'OPEN port name missing or longer than 255 bytes' };
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    return { problem: 'OPEN headers are not an object' };
  // The payload is at most 4 KiB, so the headers are within the warm metadata frame's bound too.
  const carried: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (!WARM_META_HEADERS.includes(name) || typeof value !== 'string')
      return { problem: 'OPEN client metadata has an unknown name or a non-string value' };
    carried[name] = value;
  }
  return { port, headers: carried };
}
