/**
 * Half-close negotiation constants. The sender advertises support with an HTTP header on its connect request
 * (the relay hands it to the listener in `connectHeaders`); a listener that agrees sends {@link HALF_CLOSE_ACCEPT_FRAME}
 * as a text frame just before its binary preamble reply; after that either end ends its write direction with
 * {@link FIN_FRAME}. Payload is always binary, so text frames are unambiguous. See docs/tunnel-protocol.md.
 */

/** Handshake header the sender sets to advertise half-close support (header names are case-insensitive). */
export const HALF_CLOSE_HEADER = 'x-hrf-half-close';

/** The only value of {@link HALF_CLOSE_HEADER} defined so far (protocol version 1). */
export const HALF_CLOSE_HEADER_VALUE = '1';

/** Text frame the listener sends, immediately before its preamble reply, when it agrees to half-close. */
export const HALF_CLOSE_ACCEPT_FRAME = 'hrf:half-close:1';

/** Text frame that ends one direction of the tunnel (a TCP FIN carried across). */
export const FIN_FRAME = 'hrf:fin';

/** Headers a sender adds to its connect request to offer half-close. */
export function halfCloseOfferHeaders(): Record<string, string> {
  return { [HALF_CLOSE_HEADER]: HALF_CLOSE_HEADER_VALUE };
}

/** Header bag as the relay listener hands it over (`connectHeaders`) or as Node's `IncomingHttpHeaders`. */
export type ConnectHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | undefined;

/** True when the sender's connect headers offer half-close (looked up case-insensitively, since relays may re-case names). */
export function offersHalfClose(headers: ConnectHeaders): boolean {
  if (!headers) return false;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() !== HALF_CLOSE_HEADER) continue;
    const value = headers[name];
    const values = typeof value === 'string' ? value.split(',') : (value ?? []);
    if (values.some((v) => v.trim() === HALF_CLOSE_HEADER_VALUE)) return true;
  }
  return false;
}
