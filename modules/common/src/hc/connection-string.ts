import { RelayError } from './errors';

/** The parts of an Azure Relay connection string that a client needs. */
export interface RelayConnectionString {
  /** Namespace host, e.g. `contoso.servicebus.windows.net` (may carry `:port` for the sandbox). */
  readonly namespace: string;
  /** Hybrid connection path (`EntityPath`), when the string names one. */
  readonly entityPath?: string;
  /** SAS rule name, present with `sharedAccessKey`. */
  readonly sharedAccessKeyName?: string;
  /** SAS key (base64 text as issued by Azure, used verbatim as HMAC key bytes). */
  readonly sharedAccessKey?: string;
  /** A pre-issued token (`SharedAccessSignature sr=…`), the alternative to a key. */
  readonly sharedAccessSignature?: string;
}

/**
 * Parses `Endpoint=sb://ns/;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…` or the
 * `SharedAccessSignature=…` form. Errors name the missing or malformed part and never echo the key.
 */
export function parseRelayConnectionString(text: string): RelayConnectionString {
  const parts = new Map<string, string>();
  for (const segment of text.split(';')) {
    if (segment.trim() === '') continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) throw bad(`segment "${redactSegment(segment)}" is not Name=Value`);
    const name = segment.slice(0, eq).trim().toLowerCase();
    if (parts.has(name)) throw bad(`"${segment.slice(0, eq).trim()}" appears twice`);
    parts.set(name, segment.slice(eq + 1).trim());
  }

  const endpoint = parts.get('endpoint');
  if (!endpoint) throw bad('Endpoint is missing');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // A key pasted into the Endpoint slot must not be echoed: show only its start, as for bad segments.
    throw bad(`Endpoint "${redactSegment(endpoint)}" is not a URL`);
  }
  if (url.protocol !== 'sb:') throw bad(`Endpoint must use the sb:// scheme, got "${url.protocol}//"`);
  if (!url.host) throw bad('Endpoint has no host');

  const sharedAccessKeyName = parts.get('sharedaccesskeyname');
  const sharedAccessKey = parts.get('sharedaccesskey');
  const sharedAccessSignature = parts.get('sharedaccesssignature');
  if (sharedAccessSignature !== undefined) {
    if (sharedAccessKey !== undefined || sharedAccessKeyName !== undefined)
      throw bad('use either SharedAccessSignature or SharedAccessKeyName+SharedAccessKey, not both');
    if (!sharedAccessSignature.startsWith('SharedAccessSignature '))
      throw bad('SharedAccessSignature must start with "SharedAccessSignature "');
  } else {
    if (!sharedAccessKeyName) throw bad('SharedAccessKeyName is missing');
    if (!sharedAccessKey) throw bad('SharedAccessKey is missing');
  }

  const entityPath = parts.get('entitypath') || undefined;
  return {
    namespace: url.host,
    ...(entityPath !== undefined && { entityPath }),
    ...(sharedAccessKeyName !== undefined && { sharedAccessKeyName }),
    ...(sharedAccessKey !== undefined && { sharedAccessKey }),
    ...(sharedAccessSignature !== undefined && { sharedAccessSignature }),
  };
}

/** Builds a connection string from its parts (the inverse of parseRelayConnectionString). */
export function formatRelayConnectionString(cs: RelayConnectionString): string {
  const fields = [`Endpoint=sb://${cs.namespace}/`];
  if (cs.sharedAccessSignature) fields.push(`SharedAccessSignature=${cs.sharedAccessSignature}`);
  else fields.push(`SharedAccessKeyName=${cs.sharedAccessKeyName}`, `SharedAccessKey=${cs.sharedAccessKey}`);
  if (cs.entityPath) fields.push(`EntityPath=${cs.entityPath}`);
  return fields.join(';');
}

function bad(detail: string): RelayError {
  return new RelayError('RELAY_BAD_CONNECTION_STRING', `invalid relay connection string: ${detail}`, false);
}

// A malformed segment may be a key pasted without its name: show only its start.
function redactSegment(segment: string): string {
  return segment.length > 12 ? `${segment.slice(0, 6)}…` : segment;
}
