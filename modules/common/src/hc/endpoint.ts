import { parseRelayConnectionString, type RelayConnectionString } from './connection-string';
import { RelayError } from './errors';
import { relayResourceUri } from './sas';
import { tokenProviderFromConnectionString, type TokenProvider } from './token-provider';

/** TLS settings for relay sockets; `ca` adds trust in a private CA (the sandbox) without touching the process. */
export interface RelayTlsOptions {
  readonly ca?: string | Buffer;
}

/** Everything needed to reach one hybrid connection. */
export interface HybridConnectionEndpoint {
  /** Namespace host, e.g. `contoso.servicebus.windows.net` (or `127.0.0.1:PORT` for the sandbox). */
  readonly namespace: string;
  /** Hybrid connection path (its name). */
  readonly path: string;
  readonly tokenProvider: TokenProvider;
  readonly tls?: RelayTlsOptions;
}

/** The header that carries the SAS token on every handshake (kept out of URLs, which proxies log). */
export const AUTHORIZATION_HEADER = 'ServiceBusAuthorization';

/** The resource URI tokens for this endpoint are signed for. */
export function endpointResource(endpoint: HybridConnectionEndpoint): string {
  return relayResourceUri(endpoint.namespace, endpoint.path);
}

/** `wss://{ns}/$hc/{path}?sb-hc-action=listen&sb-hc-id=…`: the listener's control channel. */
export function listenUrl(endpoint: HybridConnectionEndpoint, id?: string): string {
  return actionUrl(endpoint, 'listen', id);
}

/** `wss://{ns}/$hc/{path}?sb-hc-action=connect[&sb-hc-id=…]`: a sender's connection. */
export function connectUrl(endpoint: HybridConnectionEndpoint, id?: string): string {
  return actionUrl(endpoint, 'connect', id);
}

/** The accept address as the service sent it (used as is, once); refuses anything but a wss:// URL. */
export function acceptUrl(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new RelayError('RELAY_PROTOCOL', 'accept address is not a URL', false);
  }
  if (url.protocol !== 'wss:')
    throw new RelayError('RELAY_PROTOCOL', 'accept address is not a wss:// URL', false);
  return address;
}

/** The accept address with `sb-hc-statusCode` and `sb-hc-statusDescription` appended: opening it rejects. */
export function rejectUrl(address: string, statusCode: number, statusDescription: string): string {
  // Appended, not re-serialised: the address must stay byte-for-byte as the service issued it, and
  // encodeURIComponent writes spaces as %20, which every query parser reads back the same way.
  const separator = acceptUrl(address).includes('?') ? '&' : '?';
  return (
    `${address}${separator}sb-hc-statusCode=${encodeURIComponent(String(statusCode))}` +
    `&sb-hc-statusDescription=${encodeURIComponent(statusDescription)}`
  );
}

/** Options for endpointFromConnectionString. */
export interface EndpointFromConnectionStringOptions {
  /** Hybrid connection path, for strings without EntityPath (if both are given they must agree). */
  readonly path?: string;
  readonly tokenLifetimeMs?: number;
  readonly tls?: RelayTlsOptions;
}

/** Builds an endpoint from `Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…` (or its parsed form). */
export function endpointFromConnectionString(
  connectionString: string | RelayConnectionString,
  options: EndpointFromConnectionStringOptions = {},
): HybridConnectionEndpoint {
  const cs =
    typeof connectionString === 'string' ? parseRelayConnectionString(connectionString) : connectionString;
  if (options.path !== undefined && cs.entityPath !== undefined && options.path !== cs.entityPath)
    throw new RelayError(
      'RELAY_BAD_CONNECTION_STRING',
      `invalid relay connection string: EntityPath "${cs.entityPath}" differs from the path "${options.path}"`,
      false,
    );
  const path = options.path ?? cs.entityPath;
  if (!path)
    throw new RelayError(
      'RELAY_BAD_CONNECTION_STRING',
      'invalid relay connection string: EntityPath is missing (or pass the hybrid connection path)',
      false,
    );
  return {
    namespace: cs.namespace,
    path,
    tokenProvider: tokenProviderFromConnectionString(cs, { tokenLifetimeMs: options.tokenLifetimeMs }),
    ...(options.tls && { tls: options.tls }),
  };
}

function actionUrl(endpoint: HybridConnectionEndpoint, action: 'listen' | 'connect', id?: string): string {
  // Each segment is encoded on its own: a path may contain '/', which must stay a separator.
  const path = endpoint.path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
  const query = new URLSearchParams({ 'sb-hc-action': action });
  if (id !== undefined) query.set('sb-hc-id', id);
  return `wss://${endpoint.namespace}/$hc/${path}?${query.toString()}`;
}
