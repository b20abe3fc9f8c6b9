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

/**
 * Relay namespaces the controller may create through ARM when no namespace has room for a new location
 * (docs/fleet-controller.md, "Namespaces created through ARM"). Standard SKU, named `{prefix}-{n}`.
 */
export interface NamespaceGrowthSettings {
  /** Created namespaces are `{prefix}-1`, `{prefix}-2`, …: namespace names are DNS names, so pick one unique in Azure. */
  readonly prefix: string;
  /** Most namespaces this controller creates (those it finds tagged as its own count, whatever their prefix). */
  readonly maxCount: number;
  /** Azure region of the created namespaces. */
  readonly region: string;
  /** Resource group of the created namespaces; the controller's own when absent. */
  readonly resourceGroup?: string;
  /** Placement limits of each created namespace (Azure's quotas by default). */
  readonly maxHybridConnections: number;
  readonly maxConnections: number;
  /** How long one creation is waited for before the reconcile goes on without it (it is found again later). */
  readonly createTimeoutMs: number;
}

/** Growth settings as a caller gives them: limits and timeout default. */
export type NamespaceGrowthInput = Omit<
  NamespaceGrowthSettings,
  'maxHybridConnections' | 'maxConnections' | 'createTimeoutMs'
> &
  Partial<Pick<NamespaceGrowthSettings, 'maxHybridConnections' | 'maxConnections' | 'createTimeoutMs'>>;

/** Azure creates a Relay namespace in a minute or two; ten leaves room for a slow region. */
export const DEFAULT_NAMESPACE_CREATE_TIMEOUT_MS = 10 * 60_000;

// `{prefix}-{n}` must stay a namespace name (at most 50) for n up to 999.
const GROWTH_PREFIX = /^[a-z][a-z0-9-]{4,44}[a-z0-9]$/;
const REGION = /^[a-z][a-z0-9]{1,39}$/;

/** Fills the defaults of the growth settings and pushes a problem for each bad value. */
export function resolveNamespaceGrowth(
  input: NamespaceGrowthInput | undefined,
  problems: string[],
): NamespaceGrowthSettings | undefined {
  if (input === undefined) return undefined;
  const g: NamespaceGrowthSettings = {
    maxHybridConnections: RELAY_QUOTAS.hybridConnectionsPerNamespace,
    maxConnections: RELAY_QUOTAS.connectionsPerNamespace,
    createTimeoutMs: DEFAULT_NAMESPACE_CREATE_TIMEOUT_MS,
    ...input,
  };
  if (!GROWTH_PREFIX.test(g.prefix))
    problems.push(
      'namespace growth: prefix must be 6-46 lower-case letters, digits or hyphens, starting with a letter and ending with a letter or digit',
    );
  if (!(Number.isInteger(g.maxCount) && g.maxCount >= 1 && g.maxCount <= 999))
    problems.push('namespace growth: maxCount must be a whole number 1-999');
  if (!REGION.test(g.region))
    problems.push(`namespace growth: region "${g.region}" is not an Azure region name (e.g. westeurope)`);
  for (const key of ['maxHybridConnections', 'maxConnections'] as const)
    if (!(Number.isInteger(g[key]) && g[key] >= 1))
      problems.push(`namespace growth: ${key} must be a whole number of at least 1`);
  if (!(g.createTimeoutMs >= 1000)) problems.push('namespace growth: createTimeoutMs must be at least 1s');
  return g;
}
