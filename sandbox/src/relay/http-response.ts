import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';

/** Longest status description the sandbox writes (real descriptions with tracking ids are a few hundred bytes). */
const MAX_DESCRIPTION_CHARS = 512;

/** Close reasons must fit a control frame: 125 bytes minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Appends a tracking suffix the way the service does ("The status description contains an error
 * tracking-id"), so that people reading sandbox errors see the same shape as Azure's.
 */
export function withTrackingId(description: string, namespace: string, entity?: string): string {
  const tracker = entity ? `${namespace}:HybridConnection:${entity}` : namespace;
  return (
    `${description} TrackingId:${randomUUID()}, SystemTracker:${tracker}, ` +
    `Timestamp:${new Date().toISOString()}`
  );
}

/** Makes text safe for an HTTP reason phrase: printable ASCII only, bounded length. */
export function sanitizeStatusDescription(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, ' ').trim();
  return printable.slice(0, MAX_DESCRIPTION_CHARS) || 'Error';
}

/** Cuts a close reason to what fits a close frame, without splitting a UTF-8 sequence. */
export function truncateCloseReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > MAX_CLOSE_REASON_BYTES) out = out.slice(0, -1);
  return out;
}

/**
 * Fails a WebSocket upgrade with a plain HTTP status, the "regular HTTP 1.1 status feedback model" the
 * protocol uses for handshake errors. The description is both the reason phrase and the body.
 */
export function rejectUpgrade(socket: Duplex, status: number, description: string): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = sanitizeStatusDescription(description);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      '\r\n' +
      text,
  );
}
