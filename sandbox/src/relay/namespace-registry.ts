import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RelayRight } from '../../../modules/common/src/hc/sas';
import { invalid, notFound, SandboxRelayError } from './errors';

/** Which keys a rule has; names follow the ARM `keyType` values so the ARM stand-in can reuse them. */
export type KeyType = 'PrimaryKey' | 'SecondaryKey';

/** A shared access authorization rule: a name, rights, and two keys (either signs valid tokens). */
export interface AuthorizationRule {
  readonly name: string;
  readonly rights: readonly RelayRight[];
  readonly primaryKey: string;
  readonly secondaryKey: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** A hybrid connection and the rules configured on it. */
export interface HybridConnection {
  /** The name as created (lookups ignore case, like Azure entity names). */
  readonly name: string;
  readonly requiresClientAuthorization: boolean;
  readonly userMetadata?: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** Options for createHybridConnection. */
export interface HybridConnectionOptions {
  /** When false, senders need no token (the "Requires Client Authorization" switch). Default true. */
  readonly requiresClientAuthorization?: boolean;
  readonly userMetadata?: string;
}

/** Scope of a rule: a hybrid connection name, or the namespace (undefined or ''). */
export type RuleScope = string | undefined;

/** The namespace-level rule every namespace starts with (it has all rights). */
export const ROOT_RULE_NAME = 'RootManageSharedAccessKey';

/** Documented limits: 12 rules per scope ("Up to 12 such authorization rules"). */
export const MAX_RULES_PER_SCOPE = 12;

const RIGHTS: readonly RelayRight[] = ['Listen', 'Send', 'Manage'];
// Letters, digits, '.', '-', '_' per segment; '/' separates segments (Azure allows nested names).
const NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]*)(\/[A-Za-z0-9._-]+)*$/;
const RULE_NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,255})$/;

/** Events a registry emits so the data plane can react (close listeners of a deleted hybrid connection). */
export interface NamespaceRegistryEvents {
  hybridConnectionDeleted: [name: string];
}

interface Entry {
  hc: HybridConnection;
  rules: Map<string, AuthorizationRule>;
}

/** A fresh key: 256 random bits in base64, the shape Azure issues. */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The namespace's management state: hybrid connections and authorization rules with keys. Pure state,
 * no sockets, so the data plane, the admin API and the later ARM stand-in can all drive the same object.
 */
export class NamespaceRegistry extends EventEmitter<NamespaceRegistryEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly namespaceRules = new Map<string, AuthorizationRule>();

  constructor(private readonly nowMs: () => number = Date.now) {
    super();
  }

  /** Creates a hybrid connection, or updates its options when it exists (create-or-update, like ARM PUT). */
  createHybridConnection(name: string, options: HybridConnectionOptions = {}): HybridConnection {
    if (!NAME_PATTERN.test(name) || name.length > 260)
      throw invalid(
        `hybrid connection name "${name}" must be 1-260 characters of letters, digits, '.', '-', '_' and '/'`,
      );
    const now = this.nowMs();
    const existing = this.entries.get(name.toLowerCase());
    const hc: HybridConnection = {
      name: existing?.hc.name ?? name,
      requiresClientAuthorization:
        options.requiresClientAuthorization ?? existing?.hc.requiresClientAuthorization ?? true,
      ...((options.userMetadata ?? existing?.hc.userMetadata) !== undefined && {
        userMetadata: options.userMetadata ?? existing?.hc.userMetadata,
      }),
      createdAtMs: existing?.hc.createdAtMs ?? now,
      updatedAtMs: now,
    };
    this.entries.set(name.toLowerCase(), { hc, rules: existing?.rules ?? new Map() });
    return hc;
  }

  /** The hybrid connection with exactly this name (any case), if any. */
  getHybridConnection(name: string): HybridConnection | undefined {
    return this.entries.get(name.toLowerCase())?.hc;
  }

  /**
   * Finds the hybrid connection a request path addresses: the longest registered name that is the path
   * or a prefix of it on a '/' boundary (senders may append a suffix after the registered name).
   */
  resolve(requestPath: string): { hc: HybridConnection; suffix: string } | undefined {
    const segments = requestPath.split('/');
    for (let n = segments.length; n > 0; n--) {
      const entry = this.entries.get(segments.slice(0, n).join('/').toLowerCase());
      if (entry) {
        const rest = segments.slice(n).join('/');
        return { hc: entry.hc, suffix: rest === '' ? '' : `/${rest}` };
      }
    }
    return undefined;
  }

  /** All hybrid connections, by name. */
  listHybridConnections(): HybridConnection[] {
    return [...this.entries.values()].map((e) => e.hc).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a hybrid connection and its rules; false when it did not exist. */
  deleteHybridConnection(name: string): boolean {
    const entry = this.entries.get(name.toLowerCase());
    if (!entry) return false;
    this.entries.delete(name.toLowerCase());
    this.emit('hybridConnectionDeleted', entry.hc.name);
    return true;
  }

  /** Creates a rule, or updates its rights when it exists (keys are kept, as in Azure). */
  createAuthorizationRule(scope: RuleScope, name: string, rights: readonly RelayRight[]): AuthorizationRule {
    if (!RULE_NAME_PATTERN.test(name))
      throw invalid(`rule name "${name}" must be 1-256 letters, digits, '.', '-' or '_'`);
    const unique = [...new Set(rights)];
    if (unique.length === 0 || unique.some((r) => !RIGHTS.includes(r)))
      throw invalid(`rights must be a non-empty list of ${RIGHTS.join(', ')}`);
    const rules = this.rulesFor(scope);
    const existing = rules.get(name.toLowerCase());
    if (!existing && rules.size >= MAX_RULES_PER_SCOPE)
      throw new SandboxRelayError(
        'SANDBOX_RELAY_QUOTA',
        `at most ${MAX_RULES_PER_SCOPE} authorization rules per namespace or hybrid connection`,
        409,
      );
    const now = this.nowMs();
    const rule: AuthorizationRule = {
      name: existing?.name ?? name,
      rights: RIGHTS.filter((r) => unique.includes(r)),
      primaryKey: existing?.primaryKey ?? generateKey(),
      secondaryKey: existing?.secondaryKey ?? generateKey(),
      createdAtMs: existing?.createdAtMs ?? now,
      updatedAtMs: now,
    };
    rules.set(name.toLowerCase(), rule);
    return rule;
  }

  /** The rule with this name in this scope; throws SANDBOX_RELAY_NOT_FOUND. */
  getAuthorizationRule(scope: RuleScope, name: string): AuthorizationRule {
    const rule = this.rulesFor(scope).get(name.toLowerCase());
    if (!rule) throw notFound(`authorization rule "${name}"${describeScope(scope)}`);
    return rule;
  }

  /** The rule with this name in this scope, or undefined (never throws, for the token check). */
  findAuthorizationRule(scope: RuleScope, name: string): AuthorizationRule | undefined {
    if (isNamespaceScope(scope)) return this.namespaceRules.get(name.toLowerCase());
    return this.entries.get(scope!.toLowerCase())?.rules.get(name.toLowerCase());
  }

  /** Rules of one scope, by name. */
  listAuthorizationRules(scope: RuleScope): AuthorizationRule[] {
    return [...this.rulesFor(scope).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a rule (tokens it signed stop working at once); false when it did not exist. */
  deleteAuthorizationRule(scope: RuleScope, name: string): boolean {
    return this.rulesFor(scope).delete(name.toLowerCase());
  }

  /** Replaces one key of a rule with a new random key (or `key`), invalidating tokens signed with the old one. */
  regenerateKey(scope: RuleScope, name: string, keyType: KeyType, key?: string): AuthorizationRule {
    if (keyType !== 'PrimaryKey' && keyType !== 'SecondaryKey')
      throw invalid('keyType must be PrimaryKey or SecondaryKey');
    if (key !== undefined && key.length < 16) throw invalid('a supplied key must be at least 16 characters');
    const old = this.getAuthorizationRule(scope, name);
    const fresh = key ?? generateKey();
    const rule: AuthorizationRule = {
      ...old,
      ...(keyType === 'PrimaryKey' ? { primaryKey: fresh } : { secondaryKey: fresh }),
      updatedAtMs: this.nowMs(),
    };
    this.rulesFor(scope).set(name.toLowerCase(), rule);
    return rule;
  }

  private rulesFor(scope: RuleScope): Map<string, AuthorizationRule> {
    if (isNamespaceScope(scope)) return this.namespaceRules;
    const entry = this.entries.get(scope!.toLowerCase());
    if (!entry) throw notFound(`hybrid connection "${scope}"`);
    return entry.rules;
  }
}

/** True when a scope means the namespace rather than a hybrid connection. */
export function isNamespaceScope(scope: RuleScope): boolean {
  return scope === undefined || scope === '' || scope === '/';
}

function describeScope(scope: RuleScope): string {
  return isNamespaceScope(scope) ? ' on the namespace' : ` on hybrid connection "${scope}"`;
}
