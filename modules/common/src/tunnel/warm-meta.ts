import type { ConnectHeaders } from './half-close';

/**
 * In-band client metadata on warm connections (docs/tunnel-protocol.md, "Warm connections"). A warm connection's
 * connect headers were fixed before any client existed, so the per-client headers travel in one text frame the
 * gateway sends just before the preamble — only to a listener that announced it reads such a frame.
 */

/** Text frame a listener sends right after accepting a warm connection: "I read `hrf:meta` before the preamble". */
export const WARM_META_ANNOUNCE_FRAME = 'hrf:warm';

/** Prefix of the sender's metadata frame; a JSON object of header names to string values follows. */
export const WARM_META_PREFIX = 'hrf:meta ';

/** Upper bound of the whole metadata frame in bytes; a larger one is refused like a bad preamble (4400). */
export const WARM_META_MAX_BYTES = 4096;

/** Per-client connect headers that may travel in the metadata frame (lower case). */
export const WARM_META_HEADERS: readonly string[] = [
  'x-hrf-client',
  'x-hrf-client-cert',
  'traceparent',
  'tracestate',
];

/** The frame for `headers`, or undefined when one of them cannot travel in-band (the client must open cold). */
export function encodeWarmMeta(headers: Readonly<Record<string, string>>): string | undefined {
  const carried: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!WARM_META_HEADERS.includes(lower)) return undefined;
    carried[lower] = value;
  }
  const frame = WARM_META_PREFIX + JSON.stringify(carried);
  return Buffer.byteLength(frame) <= WARM_META_MAX_BYTES ? frame : undefined;
}

/**
 * Parses a metadata frame strictly: the prefix, then a JSON object whose values are all strings and whose names are
 * all in {@link WARM_META_HEADERS}, within {@link WARM_META_MAX_BYTES}. Returns the headers or a reason to refuse.
 */
export function decodeWarmMeta(frame: Buffer): { headers: Record<string, string> } | { problem: string } {
  if (frame.length > WARM_META_MAX_BYTES) return { problem: 'client metadata frame too large' };
  const text = frame.toString('utf8');
  if (!text.startsWith(WARM_META_PREFIX)) return { problem: 'text frame before the preamble' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(WARM_META_PREFIX.length));
  } catch {
    return { problem: 'client metadata is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problem: 'client metadata is not a JSON object' };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!WARM_META_HEADERS.includes(name) || typeof value !== 'string')
      return { problem: 'client metadata has an unknown name or a non-string value' };
    headers[name] = value;
  }
  return { headers };
}

/** Connect headers with the metadata applied: every per-client name comes from the frame, none from the request. */
export function withWarmMeta(
  connectHeaders: ConnectHeaders,
  meta: Readonly<Record<string, string>>,
): Record<string, string | readonly string[] | undefined> {
  const merged: Record<string, string | readonly string[] | undefined> = {};
  for (const [name, value] of Object.entries(connectHeaders ?? {}))
    if (!WARM_META_HEADERS.includes(name.toLowerCase())) merged[name] = value;
  return { ...merged, ...meta };
}
