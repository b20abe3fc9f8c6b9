import type { AuthorizationRule, HybridConnection } from '../relay/namespace-registry';
import { relayConnectionString } from '../relay/management';
import { authorizationRuleId, hybridConnectionId } from './paths';

/** What the resource shapes need to know about the one namespace the sandbox serves. */
export interface NamespaceInfo {
  readonly id: string;
  readonly name: string;
  readonly location: string;
  /** `host[:port]` of the data plane: the namespace part of connection strings ('' while being provisioned). */
  readonly relayHost: string;
  readonly createdAtMs: number;
  readonly updatedAtMs?: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** JSON the way ARM writes it (plain objects, ISO dates). */
export type ArmJson = Record<string, unknown>;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A `Microsoft.Relay/namespaces` resource (API 2017-04-01). `provisioningState` is what a long-running create
 * polls: `Created` while the namespace is being provisioned (no data plane yet, so no serviceBusEndpoint), then
 * `Succeeded` or `Failed`.
 */
export function namespaceResource(
  ns: NamespaceInfo,
  subscriptionId: string,
  provisioningState = 'Succeeded',
): ArmJson {
  return {
    id: ns.id,
    name: ns.name,
    type: 'Microsoft.Relay/Namespaces',
    location: ns.location,
    tags: { ...ns.tags },
    sku: { name: 'Standard', tier: 'Standard' },
    properties: {
      provisioningState,
      createdAt: iso(ns.createdAtMs),
      updatedAt: iso(ns.updatedAtMs ?? ns.createdAtMs),
      ...(ns.relayHost !== '' && { serviceBusEndpoint: `https://${ns.relayHost}/` }),
      metricId: `${subscriptionId}:${ns.name}`,
    },
  };
}

/** A `Microsoft.Relay/namespaces/hybridConnections` resource. */
export function hybridConnectionResource(
  ns: NamespaceInfo,
  hc: HybridConnection,
  listenerCount: number,
): ArmJson {
  return {
    id: hybridConnectionId(ns.id, hc.name),
    name: hc.name,
    type: 'Microsoft.Relay/namespaces/hybridConnections',
    location: ns.location,
    properties: {
      createdAt: iso(hc.createdAtMs),
      updatedAt: iso(hc.updatedAtMs),
      // The documented quota is 25; the SDK's model declares the same bound.
      listenerCount: Math.min(listenerCount, 25),
      requiresClientAuthorization: hc.requiresClientAuthorization,
      ...(hc.userMetadata !== undefined && { userMetadata: hc.userMetadata }),
    },
  };
}

/** An authorization rule resource on the namespace (`hc` undefined) or on a hybrid connection. */
export function authorizationRuleResource(
  ns: NamespaceInfo,
  hc: string | undefined,
  rule: AuthorizationRule,
): ArmJson {
  return {
    id: authorizationRuleId(ns.id, hc, rule.name),
    name: rule.name,
    type:
      hc === undefined
        ? 'Microsoft.Relay/namespaces/authorizationRules'
        : 'Microsoft.Relay/namespaces/hybridConnections/authorizationRules',
    location: ns.location,
    properties: { rights: [...rule.rights] },
  };
}

/** The `AccessKeys` answer of listKeys / regenerateKeys; entity rules' connection strings carry `EntityPath`. */
export function accessKeys(ns: NamespaceInfo, hc: string | undefined, rule: AuthorizationRule): ArmJson {
  return {
    primaryConnectionString: relayConnectionString(ns.relayHost, rule.name, rule.primaryKey, hc),
    secondaryConnectionString: relayConnectionString(ns.relayHost, rule.name, rule.secondaryKey, hc),
    primaryKey: rule.primaryKey,
    secondaryKey: rule.secondaryKey,
    keyName: rule.name,
  };
}
