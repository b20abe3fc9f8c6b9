import type { JsonObject } from './json';
import type { RuleName } from './names';

/** A device twin as the controller reads it (only devices with relay tags or a controller status). */
export interface ObservedDevice {
  readonly deviceId: string;
  readonly etag: string;
  readonly tags: JsonObject;
}

/** A module twin of relay-forwarder or relay-gateway: desired properties without `$version` / `$metadata`. */
export interface ObservedModule {
  readonly deviceId: string;
  readonly moduleId: string;
  readonly etag: string;
  readonly desired: JsonObject;
  /** The lease generation of the controller replica that last wrote this twin (its tags), when one did. */
  readonly fenceGeneration?: number;
}

/** A hybrid connection in the Relay namespace. */
export interface ObservedHybridConnection {
  readonly name: string;
  readonly userMetadata?: string;
  /** The namespace (by name) it lives in, when several are configured; absent: the first (or only) one. */
  readonly namespace?: string;
}

/** Why an action failed during this reconcile: it is not tried again until the next one. */
export interface ActionFailure {
  readonly code: string;
  readonly message: string;
}

/**
 * Everything planReconcile looks at: what IoT Hub and the Relay namespace hold, plus what this reconcile has
 * learnt so far (keys fetched, rules found missing, actions that failed). Literal data, so tests can write it.
 */
export interface Observed {
  /** The reconcile's clock: every token minted in one reconcile uses it, so replanning is deterministic. */
  readonly nowMs: number;
  /** `host[:port]` of the Relay namespace, as the modules' `namespace` field wants it. */
  readonly namespaceHost: string;
  /**
   * `host[:port]` of every configured namespace by name, in the configured order (settings.namespaces); absent:
   * one namespace, `namespaceHost`.
   */
  readonly namespaceHosts?: ReadonlyMap<string, string>;
  readonly devices: readonly ObservedDevice[];
  readonly modules: readonly ObservedModule[];
  readonly hybridConnections: readonly ObservedHybridConnection[];
  /** Primary keys known, by `keyRef(hybridConnection, rule)`. */
  readonly keys: ReadonlyMap<string, string>;
  /** Rules listKeys answered 404 for, by keyRef. */
  readonly missingRules: ReadonlySet<string>;
  /** Failures in this reconcile, by actionKey. */
  readonly failures: ReadonlyMap<string, ActionFailure>;
}

/**
 * The key under which a rule's key (or absence) is recorded; with a namespace (several configured) the same
 * name in two namespaces never shares a key. Every ref of a hybrid connection starts with `{name}/`.
 */
export function keyRef(hybridConnection: string, rule: RuleName, namespace?: string): string {
  return namespace ? `${hybridConnection}/${rule}@${namespace}` : `${hybridConnection}/${rule}`;
}
