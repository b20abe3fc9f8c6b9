import { formatRelayConnectionString } from '../../../modules/common/src/hc/connection-string';
import type { RelayRight } from '../../../modules/common/src/hc/sas';
import type { RelayContext } from './context';
import { CONTROL_CLOSE } from './control-channel';
import { invalid, notFound } from './errors';
import { isSendableCloseCode } from './frame-pump';
import {
  isNamespaceScope,
  type AuthorizationRule,
  type HybridConnectionOptions,
  type KeyType,
} from './namespace-registry';
import type { RelayStats } from './stats';

/** A rule's keys and ready-made connection strings (the shape of ARM's listKeys answer). */
export interface AccessKeys {
  readonly keyName: string;
  readonly rights: readonly RelayRight[];
  readonly primaryKey: string;
  readonly secondaryKey: string;
  readonly primaryConnectionString: string;
  readonly secondaryConnectionString: string;
}

/** A hybrid connection as the management surface shows it. */
export interface HybridConnectionInfo {
  readonly name: string;
  readonly requiresClientAuthorization: boolean;
  readonly userMetadata?: string;
  readonly listenerCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A rule without its keys (what listing shows). */
export interface AuthorizationRuleInfo {
  readonly name: string;
  readonly rights: readonly RelayRight[];
}

/** Default close for dropListeners: what the documented daily listener restart ("NameRenewalFailed", an internal error) looks like. */
export const DEFAULT_DROP_CLOSE = {
  code: CONTROL_CLOSE.internalError,
  reason: 'NameRenewalFailed: listener restart',
};

/** `Endpoint=sb://{namespace}/;SharedAccessKeyName=…;SharedAccessKey=…[;EntityPath=…]`. */
export function relayConnectionString(
  namespace: string,
  keyName: string,
  key: string,
  entityPath?: string,
): string {
  return formatRelayConnectionString({
    namespace,
    sharedAccessKeyName: keyName,
    sharedAccessKey: key,
    ...(entityPath !== undefined && { entityPath }),
  });
}

/**
 * The management operations of the sandbox namespace, shared by the in-process API and the HTTPS admin
 * API. A scope is a hybrid connection name, or the namespace (undefined, '' or the namespace string).
 */
export class RelayManagement {
  constructor(private readonly ctx: RelayContext) {}

  /** Creates (or updates) a hybrid connection. */
  createHybridConnection(path: string, options: HybridConnectionOptions = {}): HybridConnectionInfo {
    return this.info(this.ctx.registry.createHybridConnection(path, options).name);
  }

  /** One hybrid connection; throws SANDBOX_RELAY_NOT_FOUND. */
  getHybridConnection(path: string): HybridConnectionInfo {
    return this.info(path);
  }

  /** Every hybrid connection. */
  listHybridConnections(): HybridConnectionInfo[] {
    return this.ctx.registry.listHybridConnections().map((hc) => this.info(hc.name));
  }

  /** Deletes a hybrid connection: its listeners and connections are closed with 1001. False when absent. */
  deleteHybridConnection(path: string): boolean {
    return this.ctx.registry.deleteHybridConnection(path);
  }

  /** Creates (or updates the rights of) a rule and returns its keys. */
  createAuthorizationRule(
    pathOrNamespace: string | undefined,
    ruleName: string,
    rights: readonly RelayRight[],
  ): AccessKeys {
    const scope = this.scopeOf(pathOrNamespace);
    return this.keysOf(scope, this.ctx.registry.createAuthorizationRule(scope, ruleName, rights));
  }

  /** Rules of a scope, without keys. */
  listAuthorizationRules(pathOrNamespace: string | undefined): AuthorizationRuleInfo[] {
    return this.ctx.registry
      .listAuthorizationRules(this.scopeOf(pathOrNamespace))
      .map((r) => ({ name: r.name, rights: r.rights }));
  }

  /** Deletes a rule; false when absent. */
  deleteAuthorizationRule(pathOrNamespace: string | undefined, ruleName: string): boolean {
    return this.ctx.registry.deleteAuthorizationRule(this.scopeOf(pathOrNamespace), ruleName);
  }

  /** A rule's keys and connection strings. */
  listKeys(pathOrNamespace: string | undefined, ruleName: string): AccessKeys {
    const scope = this.scopeOf(pathOrNamespace);
    return this.keysOf(scope, this.ctx.registry.getAuthorizationRule(scope, ruleName));
  }

  /** Replaces one key of a rule; tokens signed with the old key stop working for new handshakes. */
  regenerateKey(
    pathOrNamespace: string | undefined,
    ruleName: string,
    keyType: KeyType,
    key?: string,
  ): AccessKeys {
    const scope = this.scopeOf(pathOrNamespace);
    return this.keysOf(scope, this.ctx.registry.regenerateKey(scope, ruleName, keyType, key));
  }

  /**
   * Closes listener control channels (of one hybrid connection, or all) the way the service's periodic
   * listener restart does; established connections stay up. Returns how many were closed.
   */
  dropListeners(
    path?: string,
    closeCode: number = DEFAULT_DROP_CLOSE.code,
    reason = DEFAULT_DROP_CLOSE.reason,
  ): number {
    if (!isSendableCloseCode(closeCode))
      throw invalid(`close code ${closeCode} cannot be sent in a close frame`);
    if (path !== undefined && !this.ctx.registry.getHybridConnection(path))
      throw notFound(`hybrid connection "${path}"`);
    const channels = this.ctx.listeners.list(path).filter((c) => c.isOpen);
    for (const channel of channels) channel.close(closeCode, reason);
    this.ctx.counters.listenersDropped += channels.length;
    return channels.length;
  }

  /** Listeners per hybrid connection, tunnels, pending rendezvous and counters. */
  stats(): RelayStats {
    return {
      listenersByPath: this.ctx.listeners.countsByPath(),
      activeTunnels: this.ctx.tunnels.size,
      pendingRendezvous: this.ctx.rendezvous.size,
      counters: structuredClone(this.ctx.counters),
    };
  }

  /** Maps the accepted spellings of "the namespace" to undefined; anything else is a hybrid connection name. */
  scopeOf(pathOrNamespace: string | undefined): string | undefined {
    if (isNamespaceScope(pathOrNamespace) || pathOrNamespace === this.ctx.namespace) return undefined;
    return pathOrNamespace;
  }

  private keysOf(scope: string | undefined, rule: AuthorizationRule): AccessKeys {
    const entity = scope === undefined ? undefined : this.ctx.registry.getHybridConnection(scope)?.name;
    return {
      keyName: rule.name,
      rights: rule.rights,
      primaryKey: rule.primaryKey,
      secondaryKey: rule.secondaryKey,
      primaryConnectionString: relayConnectionString(this.ctx.namespace, rule.name, rule.primaryKey, entity),
      secondaryConnectionString: relayConnectionString(
        this.ctx.namespace,
        rule.name,
        rule.secondaryKey,
        entity,
      ),
    };
  }

  private info(path: string): HybridConnectionInfo {
    const hc = this.ctx.registry.getHybridConnection(path);
    if (!hc) throw notFound(`hybrid connection "${path}"`);
    return {
      name: hc.name,
      requiresClientAuthorization: hc.requiresClientAuthorization,
      ...(hc.userMetadata !== undefined && { userMetadata: hc.userMetadata }),
      listenerCount: this.ctx.listeners.count(hc.name),
      createdAt: new Date(hc.createdAtMs).toISOString(),
      updatedAt: new Date(hc.updatedAtMs).toISOString(),
    };
  }
}
