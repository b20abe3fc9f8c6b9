import type { RawData } from 'ws';

/** What a listener's control message asks of the relay, read without trusting its shape. */
export type ControlMessage =
  /** `{"renewToken":{"token":"…"}}` with a non-empty token. */
  | { readonly kind: 'renewToken'; readonly token: string }
  /** A `renewToken` message without a usable token: the service closes the channel (1008). */
  | { readonly kind: 'badRenewToken'; readonly reason: string }
  /** Not JSON, binary, or JSON that asks nothing the relay knows: ignored, as the service does. */
  | { readonly kind: 'ignored'; readonly reason: string };

/**
 * Parses one control-channel frame from a listener. Pure and total: any bytes give a ControlMessage, never an
 * exception, so a hostile listener cannot crash the relay with a malformed frame.
 */
export function parseControlMessage(data: RawData | string, isBinary: boolean): ControlMessage {
  if (isBinary) return { kind: 'ignored', reason: 'binary frame' };
  let message: unknown;
  try {
    message = JSON.parse(typeof data === 'string' ? data : rawText(data));
  } catch {
    return { kind: 'ignored', reason: 'not JSON' };
  }
  if (typeof message !== 'object' || message === null || !('renewToken' in message))
    return { kind: 'ignored', reason: 'no known command' };
  const renew = (message as { renewToken: unknown }).renewToken;
  const token =
    typeof renew === 'object' && renew !== null ? (renew as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token === '')
    return { kind: 'badRenewToken', reason: 'renewToken carries no token.' };
  return { kind: 'renewToken', token };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
