/** What the service tells a listener about one sender waiting to be accepted. */
export interface AcceptRequest {
  /** Connection id: the sender's `sb-hc-id`, or one the service made up. */
  readonly id: string;
  /** Single-use rendezvous address, valid for about 30 s. May carry secrets: do not log it. */
  readonly address: string;
  /** The HTTP headers the sender sent with its connect request. */
  readonly connectHeaders: Readonly<Record<string, string>>;
  /** The sender's address as the service saw it, when the service tells. */
  readonly remoteEndpoint?: { readonly address?: string; readonly port?: number };
}

/** A listener's answer to an AcceptRequest. */
export type AcceptDecision =
  | { readonly accept: true }
  | { readonly accept: false; readonly statusCode: number; readonly statusDescription: string };

/** The decision that accepts a connection. */
export const ACCEPT: AcceptDecision = Object.freeze({ accept: true });

/** A decision that rejects a connection; the sender receives `statusCode` and `statusDescription`. */
export function rejectWith(statusCode: number, statusDescription: string): AcceptDecision {
  if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599)
    throw new RangeError(`reject status must be a 4xx or 5xx code, got ${statusCode}`);
  return { accept: false, statusCode, statusDescription };
}

/** Reads `{"accept":{…}}` from a parsed control message; undefined when it is not a well-formed accept. */
export function parseAcceptMessage(message: unknown): AcceptRequest | undefined {
  const accept = (message as { accept?: unknown } | null)?.accept;
  if (typeof accept !== 'object' || accept === null) return undefined;
  const { address, id, connectHeaders, remoteEndpoint } = accept as Record<string, unknown>;
  if (typeof address !== 'string' || address === '') return undefined;
  const headers: Record<string, string> = {};
  if (typeof connectHeaders === 'object' && connectHeaders !== null) {
    for (const [name, value] of Object.entries(connectHeaders)) {
      if (value !== undefined && value !== null)
        headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
  }
  const request: AcceptRequest = {
    id: typeof id === 'string' ? id : '',
    address,
    connectHeaders: headers,
  };
  if (typeof remoteEndpoint === 'object' && remoteEndpoint !== null) {
    const { address: remoteAddress, port } = remoteEndpoint as Record<string, unknown>;
    return {
      ...request,
      remoteEndpoint: {
        ...(typeof remoteAddress === 'string' && { address: remoteAddress }),
        ...(typeof port === 'number' && { port }),
      },
    };
  }
  return request;
}

/** Case-insensitive header lookup in `connectHeaders` (the service keeps the sender's spelling). */
export function connectHeader(request: AcceptRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.connectHeaders))
    if (key.toLowerCase() === wanted) return value;
  return undefined;
}
