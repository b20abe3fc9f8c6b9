import { request } from 'node:https';
import { parseRelayConnectionString } from '../../../modules/common/src/hc/connection-string';
import { createSasToken, relayResourceUri, type RelayRight } from '../../../modules/common/src/hc/sas';
import { ADMIN_PREFIX } from './admin-api';
import { SandboxRelayError, type SandboxRelayErrorCode } from './errors';
import type { AccessKeys, AuthorizationRuleInfo, HybridConnectionInfo } from './management';
import type { HybridConnectionOptions, KeyType } from './namespace-registry';
import type { RelayStats } from './stats';

/** How to reach and authenticate to a sandbox relay's admin API. */
export interface SandboxRelayAdminClientOptions {
  /** `127.0.0.1:PORT`. */
  readonly namespace: string;
  /** The sandbox CA (PEM). */
  readonly ca: string | Buffer;
  /** A namespace rule with Manage (e.g. RootManageSharedAccessKey) and its key. */
  readonly keyName: string;
  readonly key: string;
  /** Lifetime of the token minted for each request. Default 5 minutes. */
  readonly tokenLifetimeMs?: number;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Drives a sandbox relay from another process over its HTTPS admin API (`/$sandbox/…`). Each request
 * carries a fresh short-lived Manage token; no connection is pooled, so nothing keeps a process alive.
 */
export class SandboxRelayAdminClient {
  constructor(private readonly options: SandboxRelayAdminClientOptions) {}

  /** Builds a client from a namespace-level Manage connection string. */
  static fromConnectionString(connectionString: string, ca: string | Buffer): SandboxRelayAdminClient {
    const cs = parseRelayConnectionString(connectionString);
    if (!cs.sharedAccessKeyName || !cs.sharedAccessKey)
      throw new TypeError(
        'the admin client needs a connection string with SharedAccessKeyName and SharedAccessKey',
      );
    return new SandboxRelayAdminClient({
      namespace: cs.namespace,
      ca,
      keyName: cs.sharedAccessKeyName,
      key: cs.sharedAccessKey,
    });
  }

  /** Unauthenticated liveness check. */
  health(): Promise<{ status: string; namespace: string }> {
    return this.call('GET', '/health', undefined, false);
  }

  /** Creates or updates a hybrid connection. */
  createHybridConnection(name: string, options: HybridConnectionOptions = {}): Promise<HybridConnectionInfo> {
    return this.call('PUT', `/hybridConnections/${encodeURIComponent(name)}`, options);
  }

  /** Reads one hybrid connection. */
  getHybridConnection(name: string): Promise<HybridConnectionInfo> {
    return this.call('GET', `/hybridConnections/${encodeURIComponent(name)}`);
  }

  /** Lists hybrid connections. */
  listHybridConnections(): Promise<HybridConnectionInfo[]> {
    return this.call('GET', '/hybridConnections');
  }

  /** Deletes a hybrid connection (its listeners and connections close with 1001). */
  async deleteHybridConnection(name: string): Promise<boolean> {
    return (await this.call<{ deleted: boolean }>('DELETE', `/hybridConnections/${encodeURIComponent(name)}`))
      .deleted;
  }

  /** Creates or updates a rule on a hybrid connection, or on the namespace when `path` is undefined. */
  createAuthorizationRule(
    path: string | undefined,
    ruleName: string,
    rights: readonly RelayRight[],
  ): Promise<AccessKeys> {
    return this.call('PUT', ruleUrl(path, ruleName), { rights });
  }

  /** Lists the rules of a scope (without keys). */
  listAuthorizationRules(path: string | undefined): Promise<AuthorizationRuleInfo[]> {
    return this.call('GET', ruleUrl(path));
  }

  /** Deletes a rule. */
  async deleteAuthorizationRule(path: string | undefined, ruleName: string): Promise<boolean> {
    return (await this.call<{ deleted: boolean }>('DELETE', ruleUrl(path, ruleName))).deleted;
  }

  /** Keys and connection strings of a rule. */
  listKeys(path: string | undefined, ruleName: string): Promise<AccessKeys> {
    return this.call('POST', `${ruleUrl(path, ruleName)}/listKeys`);
  }

  /** Replaces one key of a rule. */
  regenerateKey(path: string | undefined, ruleName: string, keyType: KeyType): Promise<AccessKeys> {
    return this.call('POST', `${ruleUrl(path, ruleName)}/regenerateKeys`, { keyType });
  }

  /** Closes listener control channels (the daily drop); returns how many. */
  async dropListeners(path?: string, closeCode?: number, reason?: string): Promise<number> {
    return (await this.call<{ dropped: number }>('POST', '/dropListeners', { path, closeCode, reason }))
      .dropped;
  }

  /** Listeners, tunnels and counters. */
  stats(): Promise<RelayStats> {
    return this.call('GET', '/stats');
  }

  private call<T>(method: string, path: string, body?: unknown, authenticate = true): Promise<T> {
    const { namespace, ca } = this.options;
    const [host, port] = splitHostPort(namespace);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (authenticate) headers.ServiceBusAuthorization = this.token();
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          method,
          path: `${ADMIN_PREFIX}${path}`,
          ca,
          headers,
          agent: false,
          timeout: this.options.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              return reject(
                new SandboxRelayError(
                  'SANDBOX_RELAY_INVALID',
                  `admin API answered non-JSON (${res.statusCode})`,
                  res.statusCode ?? 500,
                ),
              );
            }
            if (res.statusCode === 200) return resolve(parsed as T);
            const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
            reject(
              new SandboxRelayError(
                (error?.code as SandboxRelayErrorCode | undefined) ?? 'SANDBOX_RELAY_INVALID',
                error?.message ?? `admin API answered ${res.statusCode}`,
                res.statusCode ?? 500,
              ),
            );
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`admin request timed out: ${method} ${path}`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private token(): string {
    return createSasToken({
      resource: relayResourceUri(this.options.namespace),
      keyName: this.options.keyName,
      key: this.options.key,
      lifetimeMs: this.options.tokenLifetimeMs ?? 5 * 60 * 1000,
    });
  }
}

function ruleUrl(path: string | undefined, ruleName?: string): string {
  const base =
    path === undefined
      ? '/authorizationRules'
      : `/hybridConnections/${encodeURIComponent(path)}/authorizationRules`;
  return ruleName === undefined ? base : `${base}/${encodeURIComponent(ruleName)}`;
}

function splitHostPort(namespace: string): [string, number] {
  const colon = namespace.lastIndexOf(':');
  if (colon < 0) return [namespace, 443];
  return [namespace.slice(0, colon).replace(/^\[|\]$/g, ''), Number(namespace.slice(colon + 1))];
}
