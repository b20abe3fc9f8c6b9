import type { ConnectHeaders } from './half-close';

/**
 * Datagram batching negotiation, shaped like half-close: the sender offers it with a connect header, a listener
 * that agrees sends {@link DATAGRAM_BATCH_ACCEPT_FRAME} as a text frame just before its `[1, 0, 1]` reply. Only
 * then may either end put several whole datagrams in one message. azbridge never offers nor accepts, so it always
 * gets one datagram per message, which its reader needs (see docs/tunnel-protocol.md, "Datagrams (UDP)").
 */

/** Handshake header a datagram-mode sender sets to offer batching. */
export const DATAGRAM_BATCH_HEADER = 'x-hrf-datagram-batch';

/** The only value of {@link DATAGRAM_BATCH_HEADER} defined so far. */
export const DATAGRAM_BATCH_HEADER_VALUE = '1';

/** Text frame the listener sends, immediately before its preamble reply, when it agrees to batching. */
export const DATAGRAM_BATCH_ACCEPT_FRAME = 'hrf:datagram-batch:1';

/** Headers a datagram-mode sender adds to its connect request to offer batching. */
export function datagramBatchOfferHeaders(): Record<string, string> {
  return { [DATAGRAM_BATCH_HEADER]: DATAGRAM_BATCH_HEADER_VALUE };
}

/** True when the sender's connect headers offer batching (names looked up case-insensitively). */
export function offersDatagramBatch(headers: ConnectHeaders): boolean {
  if (!headers) return false;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() !== DATAGRAM_BATCH_HEADER) continue;
    const value = headers[name];
    const values = typeof value === 'string' ? value.split(',') : (value ?? []);
    if (values.some((v) => v.trim() === DATAGRAM_BATCH_HEADER_VALUE)) return true;
  }
  return false;
}
