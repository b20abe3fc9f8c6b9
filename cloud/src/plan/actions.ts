import type { JsonObject } from '../model/json';
import type { RuleName } from '../model/names';
import type { LocationState } from '../model/status';

/** Create a location's hybrid connection (PUT, idempotent). */
export interface CreateHybridConnection {
  readonly kind: 'createHybridConnection';
  /** The namespace (by name) when several are configured; absent: the only one. */
  readonly namespace?: string;
  readonly location: string;
  readonly hybridConnection: string;
  readonly userMetadata: string;
}

/** Create (or reset the rights of) one authorization rule on a hybrid connection. */
export interface CreateAuthorizationRule {
  readonly kind: 'createAuthorizationRule';
  /** The namespace (by name) when several are configured; absent: the only one. */
  readonly namespace?: string;
  readonly location: string;
  readonly hybridConnection: string;
  readonly rule: RuleName;
  readonly rights: readonly ('Listen' | 'Send')[];
}

/** Read a rule's primary key (listKeys) so tokens can be minted. */
export interface FetchKeys {
  readonly kind: 'fetchKeys';
  /** The namespace (by name) when several are configured; absent: the only one. */
  readonly namespace?: string;
  readonly location: string;
  readonly hybridConnection: string;
  readonly rule: RuleName;
}

/** Patch a relay-forwarder module twin's desired properties (If-Match etag). */
export interface WriteForwarderTwin {
  readonly kind: 'writeForwarderTwin';
  /** The location the forwarder serves, or the one it served when this write removes it. */
  readonly location: string;
  readonly deviceId: string;
  readonly moduleId: string;
  readonly etag: string;
  readonly patch: JsonObject;
  /** What changed, for the log line: `services`, `token`, `removed`, … */
  readonly changes: readonly string[];
}

/** Patch a relay-gateway module twin's desired properties (If-Match etag). */
export interface WriteGatewayTwin {
  readonly kind: 'writeGatewayTwin';
  readonly pool: string | undefined;
  readonly deviceId: string;
  readonly moduleId: string;
  readonly etag: string;
  readonly patch: JsonObject;
  /** Locations whose routes or tokens this write changes. */
  readonly locations: readonly string[];
}

/** Patch the status tag of a location device (If-Match etag). */
export interface WriteLocationStatus {
  readonly kind: 'writeLocationStatus';
  readonly location: string | undefined;
  readonly deviceId: string;
  readonly etag: string;
  /** Merge patch of the whole `tags` section. */
  readonly patch: JsonObject;
  /** The state written (absent when the status is removed), for the log line. */
  readonly state?: LocationState;
  /** Problem codes written, for the log line. */
  readonly problems?: readonly string[];
}

/** Delete a hybrid connection the controller owns and nothing refers to any more. */
export interface DeleteHybridConnection {
  readonly kind: 'deleteHybridConnection';
  /** The namespace (by name) when several are configured; absent: the only one. */
  readonly namespace?: string;
  readonly location: string | undefined;
  readonly hybridConnection: string;
}

/** One idempotent change the executor makes. */
export type Action =
  | CreateHybridConnection
  | CreateAuthorizationRule
  | FetchKeys
  | WriteForwarderTwin
  | WriteGatewayTwin
  | WriteLocationStatus
  | DeleteHybridConnection;

/** Identifies an action across passes (failures are remembered under it for the rest of a reconcile). */
export function actionKey(action: Action): string {
  switch (action.kind) {
    case 'createHybridConnection':
    case 'deleteHybridConnection':
      return `${action.kind}:${inNamespace(action)}${action.hybridConnection}`;
    case 'createAuthorizationRule':
    case 'fetchKeys':
      return `${action.kind}:${inNamespace(action)}${action.hybridConnection}/${action.rule}`;
    case 'writeForwarderTwin':
    case 'writeGatewayTwin':
      return `${action.kind}:${action.deviceId}/${action.moduleId}`;
    case 'writeLocationStatus':
      return `${action.kind}:${action.deviceId}`;
  }
}

// `ns/` for an action in a named namespace, so the same name in two namespaces is two actions.
function inNamespace(action: { readonly namespace?: string }): string {
  return action.namespace === undefined ? '' : `${action.namespace}/`;
}

/** The metric/log name of an action (snake case, as the metrics table lists them). */
export function actionMetricName(action: Action): string {
  return action.kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The location an action serves, for log lines (a gateway write names every location it touches). */
export function actionLocation(action: Action): string | undefined {
  if (action.kind === 'writeGatewayTwin')
    return action.locations.length > 0 ? action.locations.join(',') : undefined;
  return action.location;
}
