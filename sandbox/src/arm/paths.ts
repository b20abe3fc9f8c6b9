/** The Relay resource provider's namespace segment. */
export const RELAY_PROVIDER = 'Microsoft.Relay';

/** Where in the Relay resource tree a request points. */
export type RelayResourceKind =
  | 'namespaces'
  | 'namespace'
  | 'hybridConnections'
  | 'hybridConnection'
  | 'authorizationRules'
  | 'authorizationRule'
  | 'listKeys'
  | 'regenerateKeys';

/** A parsed ARM request path under `/subscriptions/{id}`. */
export interface ArmPath {
  readonly subscriptionId: string;
  readonly resourceGroup?: string;
  /** True when the path continues with `providers/Microsoft.Relay`. */
  readonly relayProvider: boolean;
  /** The Relay resource addressed; undefined when the path is not one the sandbox knows. */
  readonly kind?: RelayResourceKind;
  readonly namespace?: string;
  readonly hybridConnection?: string;
  readonly authorizationRule?: string;
}

const eq = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

/**
 * Parses an ARM path (segment names compared without case, as ARM does). Returns undefined when it does not
 * start with `/subscriptions/{id}`; otherwise what it could make out, so the caller can answer in ARM's
 * order (subscription, then resource group, then resource type).
 */
export function parseArmPath(pathname: string): ArmPath | undefined {
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  if (!eq(segments[0], 'subscriptions') || !segments[1]) return undefined;
  const subscriptionId = segments[1];
  let i = 2;
  let resourceGroup: string | undefined;
  if (eq(segments[i], 'resourceGroups')) {
    resourceGroup = segments[i + 1];
    if (!resourceGroup) return { subscriptionId, relayProvider: false };
    i += 2;
  }
  const base = { subscriptionId, ...(resourceGroup !== undefined && { resourceGroup }) };
  if (
    !eq(segments[i], 'providers') ||
    !eq(segments[i + 1], RELAY_PROVIDER) ||
    !eq(segments[i + 2], 'namespaces')
  )
    return { ...base, relayProvider: false };
  const rest = segments.slice(i + 3);
  const relay = { ...base, relayProvider: true };
  if (rest.length === 0) return { ...relay, kind: 'namespaces' };
  if (resourceGroup === undefined) return relay;
  const namespace = rest[0];
  const inNamespace = { ...relay, namespace };
  if (rest.length === 1) return { ...inNamespace, kind: 'namespace' };
  if (eq(rest[1], 'authorizationRules')) return ruleTarget(inNamespace, rest.slice(2));
  if (!eq(rest[1], 'hybridConnections')) return relay;
  if (rest.length === 2) return { ...inNamespace, kind: 'hybridConnections' };
  const inHc = { ...inNamespace, hybridConnection: rest[2] };
  if (rest.length === 3) return { ...inHc, kind: 'hybridConnection' };
  if (eq(rest[3], 'authorizationRules')) return ruleTarget(inHc, rest.slice(4));
  return relay;
}

function ruleTarget<T extends ArmPath>(scope: T, rest: string[]): ArmPath {
  if (rest.length === 0) return { ...scope, kind: 'authorizationRules' };
  const withRule = { ...scope, authorizationRule: rest[0] };
  if (rest.length === 1) return { ...withRule, kind: 'authorizationRule' };
  if (rest.length === 2 && eq(rest[1], 'listKeys')) return { ...withRule, kind: 'listKeys' };
  if (rest.length === 2 && eq(rest[1], 'regenerateKeys')) return { ...withRule, kind: 'regenerateKeys' };
  return {
    subscriptionId: scope.subscriptionId,
    relayProvider: true,
    ...(scope.resourceGroup !== undefined && { resourceGroup: scope.resourceGroup }),
  };
}

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Relay/namespaces/{ns}`. */
export function namespaceId(subscriptionId: string, resourceGroup: string, namespace: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${RELAY_PROVIDER}/namespaces/${namespace}`;
}

/** The id of a hybrid connection resource. */
export function hybridConnectionId(nsId: string, name: string): string {
  return `${nsId}/hybridConnections/${name}`;
}

/** The id of an authorization rule on the namespace (`hc` undefined) or on a hybrid connection. */
export function authorizationRuleId(nsId: string, hc: string | undefined, rule: string): string {
  return `${hc === undefined ? nsId : hybridConnectionId(nsId, hc)}/authorizationRules/${rule}`;
}
