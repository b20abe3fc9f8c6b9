import type { RelayConnectionString } from './connection-string';
import { RelayError } from './errors';
import { createSasToken, parseSasToken, resourceCovers, sasTokenExpiresAtMs } from './sas';

/** A SAS token and when it stops being valid. */
export interface RelayToken {
  /** The full `SharedAccessSignature sr=…` text: a secret, never log it. */
  readonly token: string;
  readonly expiresAtMs: number;
}

/** Source of tokens for a relay resource (`http://{namespace}/{path}`). */
export interface TokenProvider {
  /** A token valid for `resource`, fresh enough to use now. */
  getToken(resource: string): Promise<RelayToken>;
}

/** Default lifetime of minted tokens: short, so a leaked token is worth little; listeners renew long before expiry. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

/** Mints a new short-lived token per request from a SAS rule name and key. */
export function keyTokenProvider(
  keyName: string,
  key: string,
  lifetimeMs: number = DEFAULT_TOKEN_LIFETIME_MS,
  nowMs: () => number = Date.now,
): TokenProvider {
  if (!keyName || !key) throw new RelayError('RELAY_BAD_TOKEN', 'SAS key name and key are required', false);
  if (!(lifetimeMs >= 1000))
    throw new RelayError('RELAY_BAD_TOKEN', 'token lifetime must be at least 1000 ms', false);
  return {
    async getToken(resource: string): Promise<RelayToken> {
      const now = nowMs();
      const token = createSasToken({ resource, keyName, key, lifetimeMs, nowMs: now });
      return { token, expiresAtMs: sasTokenExpiresAtMs(token) };
    },
  };
}

/** A pre-issued token that the owner may replace later (e.g. when a twin delivers a fresh one). */
export class StaticTokenProvider implements TokenProvider {
  private current: RelayToken;

  constructor(token: string) {
    this.current = StaticTokenProvider.check(token);
  }

  /** Replaces the token; call `renewToken()` on listeners afterwards to hand it to the service at once. */
  update(token: string): void {
    this.current = StaticTokenProvider.check(token);
  }

  /** The current token; fails fast when it was signed for a resource that does not cover `resource`. */
  async getToken(resource: string): Promise<RelayToken> {
    const { resource: granted } = parseSasToken(this.current.token);
    if (!resourceCovers(granted, resource))
      throw new RelayError(
        'RELAY_BAD_TOKEN',
        'the pre-issued SAS token does not cover this hybrid connection',
        false,
      );
    return this.current;
  }

  private static check(token: string): RelayToken {
    return { token, expiresAtMs: sasTokenExpiresAtMs(token) };
  }
}

/** A provider for a pre-issued token; keep the returned object to `update()` it later. */
export function staticTokenProvider(token: string): StaticTokenProvider {
  return new StaticTokenProvider(token);
}

/** The right provider for a parsed connection string: minted tokens for a key, the static token otherwise. */
export function tokenProviderFromConnectionString(
  cs: RelayConnectionString,
  options: { readonly tokenLifetimeMs?: number } = {},
): TokenProvider {
  if (cs.sharedAccessSignature) return staticTokenProvider(cs.sharedAccessSignature);
  if (cs.sharedAccessKeyName && cs.sharedAccessKey)
    return keyTokenProvider(cs.sharedAccessKeyName, cs.sharedAccessKey, options.tokenLifetimeMs);
  throw new RelayError(
    'RELAY_BAD_CONNECTION_STRING',
    'invalid relay connection string: it has neither SharedAccessSignature nor SharedAccessKeyName+SharedAccessKey',
    false,
  );
}
