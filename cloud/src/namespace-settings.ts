/**
 * Azure Relay's published per-namespace quotas (Azure Relay FAQ, "Quotas", rechecked 2026-12-06): relay endpoints
 * (hybrid connections) per namespace, concurrent relay connections over all endpoints of a namespace, and
 * concurrent listeners on one hybrid connection.
 */
export const RELAY_QUOTAS = {
  hybridConnectionsPerNamespace: 10_000,
  connectionsPerNamespace: 5_000,
  listenersPerHybridConnection: 25,
} as const;

/** One Relay namespace the controller may place hybrid connections in, with the limits placement keeps to. */
export interface NamespaceSettings {
  /** The namespace's ARM name (6-50 letters, digits or hyphens); also what a location's status tag records. */
  readonly name: string;
  /** Hybrid connections the namespace may hold in all (the controller's and anyone else's). */
  readonly maxHybridConnections: number;
  /** Connections the placed locations may draw at once (listeners plus each route's budget). */
  readonly maxConnections: number;
}

/** A namespace as a caller gives it: the limits default to Azure's quotas. */
export interface NamespaceSettingsInput {
  readonly name: string;
  readonly maxHybridConnections?: number;
  readonly maxConnections?: number;
}

// Azure's rule for namespace names (the ARM SDK refuses other lengths).
const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;

/** Fills the quota defaults and pushes a problem for each bad entry; undefined when no list was given. */
export function resolveNamespaces(
  input: readonly NamespaceSettingsInput[] | undefined,
  problems: string[],
): NamespaceSettings[] | undefined {
  if (input === undefined) return undefined;
  if (input.length === 0) problems.push('namespaces must list at least one Relay namespace');
  const seen = new Set<string>();
  return input.map((ns) => {
    const where = `namespace "${ns.name}"`;
    if (!NAMESPACE_NAME.test(ns.name))
      problems.push(`${where}: a name is 6-50 letters, digits or hyphens, starting with a letter`);
    if (seen.has(ns.name.toLowerCase())) problems.push(`${where} is listed twice`);
    seen.add(ns.name.toLowerCase());
    const resolved: NamespaceSettings = {
      name: ns.name,
      maxHybridConnections: ns.maxHybridConnections ?? RELAY_QUOTAS.hybridConnectionsPerNamespace,
      maxConnections: ns.maxConnections ?? RELAY_QUOTAS.connectionsPerNamespace,
    };
    for (const key of ['maxHybridConnections', 'maxConnections'] as const) {
      if (!(Number.isInteger(resolved[key]) && resolved[key] >= 1))
        problems.push(`${where}: ${key} must be a whole number of at least 1`);
    }
    return resolved;
  });
}
