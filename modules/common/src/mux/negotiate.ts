import type { ConnectHeaders } from '../tunnel/half-close';

/**
 * Negotiation of multiplexed streams (docs/tunnel-protocol.md, "Multiplexed streams"): the gateway offers with a
 * connect header, and a listener that speaks the framing answers with one text frame before any mux frame.
 */

/** Connect header a gateway sets on a relay connection it wants to multiplex. */
export const MUX_HEADER = 'x-hrf-mux';

/** The framing version this code speaks (the header's value). */
export const MUX_VERSION = '1';

/** Prefix of the listener's accept frame; ` max-streams=<N>` follows. */
export const MUX_ACCEPT_PREFIX = 'hrf:mux:1';

/** How long the gateway waits for the accept frame before it takes the listener for one without mux. */
export const MUX_ACCEPT_TIMEOUT_MS = 5_000;

/** After a listener did not accept, the gateway asks the same hybrid connection again only after this long. */
export const MUX_RETRY_AFTER_MS = 5 * 60_000;

/** Streams a listener serves at once on one mux connection unless configured otherwise. */
export const DEFAULT_MUX_MAX_STREAMS = 1024;

/** Headers a gateway adds to a connect request to offer multiplexing. */
export function muxOfferHeaders(): Record<string, string> {
  return { [MUX_HEADER]: MUX_VERSION };
}

/** True when the sender's connect headers offer mux version 1 (names case-insensitive). */
export function offersMux(headers: ConnectHeaders): boolean {
  if (!headers) return false;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() !== MUX_HEADER) continue;
    const value = headers[name];
    const values = typeof value === 'string' ? value.split(',') : (value ?? []);
    if (values.some((v) => v.trim() === MUX_VERSION)) return true;
  }
  return false;
}

/** The listener's accept frame. */
export function formatMuxAccept(maxStreams: number): string {
  return `${MUX_ACCEPT_PREFIX} max-streams=${maxStreams}`;
}

/** Parses an accept frame; undefined when `text` is not one (any other text frame, a bad number). */
export function parseMuxAccept(text: string): { maxStreams: number } | undefined {
  const match = /^hrf:mux:1 max-streams=([1-9][0-9]{0,6})$/.exec(text);
  return match ? { maxStreams: Number(match[1]) } : undefined;
}
