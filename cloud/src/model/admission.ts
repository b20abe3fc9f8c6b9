import { relayResourceUri } from '../../../modules/common/src/hc/sas';
import type { PoolSettings } from '../settings';
import { gatewayHybridConnectionEntry, gatewayRoute } from './documents';
import type { ServiceSpec } from './location';

// The longest a signature can get once percent-encoded: 44 base64 characters, each possibly `%2B`/`%2F`/`%3D`.
const WORST_SIGNATURE = '%2B'.repeat(44);

/**
 * Upper bound of the bytes a location adds to a gateway document: its credential entry with the longest token
 * it could get, and one route per service with the widest port number, each with its key and separators.
 */
export function locationGatewayBytes(
  pool: PoolSettings,
  namespaceHost: string,
  hybridConnection: string,
  routes: readonly { readonly name: string; readonly service: ServiceSpec }[],
): number {
  const worstToken =
    `SharedAccessSignature sr=${encodeURIComponent(relayResourceUri(namespaceHost, hybridConnection))}` +
    `&sig=${WORST_SIGNATURE}&se=9999999999&skn=send`;
  const member = (name: string, value: object) =>
    Buffer.byteLength(JSON.stringify(name)) + 2 + Buffer.byteLength(JSON.stringify(value));
  let bytes = member(
    hybridConnection,
    gatewayHybridConnectionEntry(namespaceHost, hybridConnection, worstToken),
  );
  for (const r of routes) bytes += member(r.name, gatewayRoute(pool, hybridConnection, r.service, 65535));
  return bytes;
}
