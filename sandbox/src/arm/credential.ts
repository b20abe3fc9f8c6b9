import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { audienceOfScope, mintArmToken } from './token';

/** Options of SandboxArmCredential. */
export interface SandboxArmCredentialOptions {
  /** Lifetime of each token. Default 1 h, like Entra ID access tokens (60–90 min). */
  readonly tokenLifetimeMs?: number;
  /** `sub`/`oid` claim, for logs. */
  readonly subject?: string;
}

const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

/**
 * A `TokenCredential` for the sandbox ARM API: it mints tokens signed with the sandbox's secret, where
 * production passes `DefaultAzureCredential` from `@azure/identity`. The SDK caches the token and asks again
 * shortly before it expires, exactly as with a real credential.
 */
export class SandboxArmCredential implements TokenCredential {
  constructor(
    private readonly secret: string,
    private readonly options: SandboxArmCredentialOptions = {},
  ) {
    if (!secret) throw new Error('SandboxArmCredential needs the sandbox token secret');
  }

  /** Returns a fresh token for the first requested scope. */
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    const scope = Array.isArray(scopes) ? (scopes[0] ?? '') : scopes;
    return mintArmToken({
      secret: this.secret,
      audience: audienceOfScope(scope),
      lifetimeMs: this.options.tokenLifetimeMs ?? DEFAULT_LIFETIME_MS,
      ...(this.options.subject !== undefined && { subject: this.options.subject }),
    });
  }
}
