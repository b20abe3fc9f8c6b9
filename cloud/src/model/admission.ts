import { relayResourceUri } from '../../../modules/common/src/hc/sas';
import type { PoolSettings } from '../settings';
import { gatewayHybridConnectionEntry, gatewayRoute } from './documents';
import type { ServiceSpec } from './location';

/** A location that wants room in its pool's gateway documents. */
export interface AdmissionCandidate {
  readonly locationId: string;
  /** Already served by the pool (it holds ports there): admitted before newcomers. */
  readonly established: boolean;
  /** Upper bound of what its entries add to a gateway document. */
  readonly bytes: number;
}

/**
 * Decides which locations fit into the pool's gateway documents (IoT Hub caps desired properties at 32 KB, so
 * one pool serves a bounded number of locations). Established locations go first, then newcomers, each group by
 * id, so a newcomer can never push out a location that is already reachable. Greedy: a big location that does
 * not fit does not block a smaller one behind it.
 */
export function admitLocations(
  maxBytes: number,
  baseBytes: number,
  candidates: readonly AdmissionCandidate[],
): { admitted: ReadonlySet<string>; refused: ReadonlySet<string> } {
  const ordered = [...candidates].sort((a, b) =>
    a.established !== b.established ? (a.established ? -1 : 1) : a.locationId < b.locationId ? -1 : 1,
  );
  const admitted = new Set<string>();
  const refused = new Set<string>();
  let used = baseBytes;
  for (const c of ordered) {
    if (used + c.bytes <= maxBytes) {
      admitted.add(c.locationId);
      used += c.bytes;
    } else {
      refused.add(c.locationId);
    }
  }
  return { admitted, refused };
}

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
