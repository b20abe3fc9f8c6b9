import type { ArmNamespaceRef } from './adapters/arm-namespaces';
import type { NamespaceSettingsInput } from './namespace-settings';

/** One `--namespaces` entry: where the namespace lives in ARM and the limits placement keeps to. */
export interface CliNamespace extends NamespaceSettingsInput {
  readonly resourceGroup?: string;
  readonly subscriptionId?: string;
}

const RESOURCE_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Relay\/namespaces\/([^/]+)$/i;

/**
 * `--namespaces` (RELAY_NAMESPACES): a JSON list whose entries are a namespace name, an ARM resource id
 * (`/subscriptions/…/resourceGroups/…/providers/Microsoft.Relay/namespaces/NAME`), or an object
 * `{"name" | "id", "resourceGroup"?, "subscription"?, "maxHybridConnections"?, "maxConnections"?}`.
 */
export function parseNamespacesFlag(text: string, problems: string[]): CliNamespace[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    problems.push(`--namespaces is not JSON: ${(err as Error).message}`);
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push('--namespaces must be a JSON list of at least one namespace');
    return [];
  }
  const out: CliNamespace[] = [];
  for (const [i, entry] of raw.entries()) {
    const where = `--namespaces[${i}]`;
    const item = (typeof entry === 'string' ? { [entry.startsWith('/') ? 'id' : 'name']: entry } : entry) as {
      name?: unknown;
      id?: unknown;
      resourceGroup?: unknown;
      subscription?: unknown;
      maxHybridConnections?: unknown;
      maxConnections?: unknown;
    };
    if (typeof item !== 'object' || item === null) {
      problems.push(`${where} must be a name, a resource id or an object`);
      continue;
    }
    const unknown = Object.keys(item).filter(
      (k) =>
        !['name', 'id', 'resourceGroup', 'subscription', 'maxHybridConnections', 'maxConnections'].includes(
          k,
        ),
    );
    if (unknown.length > 0) problems.push(`${where}: unknown ${unknown.join(', ')}`);
    const id = typeof item.id === 'string' ? RESOURCE_ID.exec(item.id) : null;
    if (item.id !== undefined && !id) {
      problems.push(
        `${where}: "id" must be /subscriptions/…/resourceGroups/…/providers/Microsoft.Relay/namespaces/NAME`,
      );
      continue;
    }
    const name = id ? id[3]! : item.name;
    if (typeof name !== 'string' || name === '') {
      problems.push(`${where} needs "name" or "id"`);
      continue;
    }
    const limit = (key: 'maxHybridConnections' | 'maxConnections'): number | undefined => {
      const v = item[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'number') problems.push(`${where}: ${key} must be a number`);
      return typeof v === 'number' ? v : undefined;
    };
    const resourceGroup = id ? id[2] : item.resourceGroup;
    const subscriptionId = id ? id[1] : item.subscription;
    const maxHybridConnections = limit('maxHybridConnections');
    const maxConnections = limit('maxConnections');
    out.push({
      name,
      ...(typeof resourceGroup === 'string' && { resourceGroup }),
      ...(typeof subscriptionId === 'string' && { subscriptionId }),
      ...(maxHybridConnections !== undefined && { maxHybridConnections }),
      ...(maxConnections !== undefined && { maxConnections }),
    });
  }
  return out;
}

/** The ARM references of `--namespaces` entries. */
export function armRefsOf(namespaces: readonly CliNamespace[]): ArmNamespaceRef[] {
  return namespaces.map((n) => ({
    namespace: n.name,
    ...(n.resourceGroup !== undefined && { resourceGroup: n.resourceGroup }),
    ...(n.subscriptionId !== undefined && { subscriptionId: n.subscriptionId }),
  }));
}

/** The settings' namespace list of `--namespaces` entries (limits only). */
export function namespaceSettingsOf(namespaces: readonly CliNamespace[]): NamespaceSettingsInput[] {
  return namespaces.map((n) => ({
    name: n.name,
    ...(n.maxHybridConnections !== undefined && { maxHybridConnections: n.maxHybridConnections }),
    ...(n.maxConnections !== undefined && { maxConnections: n.maxConnections }),
  }));
}
