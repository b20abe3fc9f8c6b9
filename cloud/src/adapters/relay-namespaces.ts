import type { ObservedHybridConnection } from '../model/observed';
import type { RelayAdmin } from './relay-admin';

/** The Relay namespaces a controller manages, by name in configured order, each behind its own RelayAdmin. */
export type RelayNamespaces = ReadonlyMap<string, RelayAdmin>;

/** The admin of an action's namespace: the named one when several are configured, else the only one. */
export function relayAdminFor(
  relay: RelayAdmin,
  namespaces: RelayNamespaces | undefined,
  namespace: string | undefined,
): RelayAdmin {
  if (namespace === undefined || !namespaces) return relay;
  const admin = namespaces.get(namespace);
  // The planner only names configured namespaces; anything else is a bug, not a fleet problem.
  if (!admin) throw new Error(`namespace "${namespace}" is not configured`);
  return admin;
}

/** What every namespace holds: hosts by name and every hybrid connection tagged with its namespace. */
export interface NamespacesRead {
  readonly hosts: Map<string, string>;
  readonly hybridConnections: ObservedHybridConnection[];
}

/** Reads every namespace's host (through `hostOf`, which may cache) and hybrid connections, all at once. */
export async function readNamespaces(
  namespaces: RelayNamespaces,
  hostOf: (name: string, admin: RelayAdmin) => Promise<string>,
): Promise<NamespacesRead> {
  const entries = [...namespaces];
  const reads = await Promise.all(
    entries.map(async ([name, admin]) => {
      const [host, list] = await Promise.all([hostOf(name, admin), admin.listHybridConnections()]);
      return { name, host, list };
    }),
  );
  const hosts = new Map<string, string>();
  const hybridConnections: ObservedHybridConnection[] = [];
  for (const { name, host, list } of reads) {
    hosts.set(name, host);
    for (const hc of list) hybridConnections.push({ ...hc, namespace: name });
  }
  return { hosts, hybridConnections };
}
