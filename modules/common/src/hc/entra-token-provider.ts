import type { AccessToken, TokenCredential } from '@azure/identity';
import { RelayError } from './errors';
import type { RelayToken, TokenProvider } from './token-provider';

/** The scope Azure Relay tokens are requested for ("The resource name to request a token is https://relay.azure.net"). */
export const RELAY_ENTRA_SCOPE = 'https://relay.azure.net/.default';

/** Default margin before expiry at which a cached token is replaced. */
export const DEFAULT_ENTRA_REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

/** Options of entraTokenProvider. */
export interface EntraTokenProviderOptions {
  /** Default RELAY_ENTRA_SCOPE (the same for every namespace: the token names the caller, not the entity). */
  readonly scope?: string;
  /** Replace a cached token this long before it expires, or at half its life if that comes first. */
  readonly refreshBeforeExpiryMs?: number;
  readonly nowMs?: () => number;
}

interface Cached {
  readonly token: RelayToken;
  readonly refreshAtMs: number;
}

/**
 * Tokens from a Microsoft Entra ID credential (`@azure/identity`), passed to the relay as the bare JWT in
 * `ServiceBusAuthorization` and in `renewToken`, as Microsoft's Relay SDKs do. One token serves every
 * resource, so it is cached and shared by the listener's control channel and every new sender connection,
 * replaced at half its life or `refreshBeforeExpiryMs` before expiry; concurrent callers share one request.
 * When a refresh fails while the cached token is still valid, the cached token is returned (an IMDS blip must not
 * fail new connections); the listener retries its renewal until the token changes or runs out.
 */
export function entraTokenProvider(
  credential: TokenCredential,
  options: EntraTokenProviderOptions = {},
): TokenProvider {
  const scope = options.scope ?? RELAY_ENTRA_SCOPE;
  const marginMs = options.refreshBeforeExpiryMs ?? DEFAULT_ENTRA_REFRESH_BEFORE_EXPIRY_MS;
  const now = options.nowMs ?? Date.now;
  let cached: Cached | undefined;
  let inflight: Promise<RelayToken> | undefined;

  const fetchToken = async (): Promise<RelayToken> => {
    const fetchedAtMs = now();
    let access: AccessToken | null;
    try {
      access = await credential.getToken(scope);
    } catch (err) {
      if (cached && cached.token.expiresAtMs > now()) return cached.token;
      throw new RelayError(
        'RELAY_UNAUTHORIZED',
        `could not get a Microsoft Entra ID token for ${scope}: ${(err as Error).message}`,
        true,
        undefined,
        { cause: err },
      );
    }
    if (!access?.token)
      throw new RelayError(
        'RELAY_UNAUTHORIZED',
        `the Entra ID credential returned no token for ${scope}`,
        true,
      );
    const expiresAtMs = access.expiresOnTimestamp;
    const halfLifeAtMs = fetchedAtMs + (expiresAtMs - fetchedAtMs) / 2;
    const refreshAtMs = Math.min(
      expiresAtMs - marginMs,
      halfLifeAtMs,
      access.refreshAfterTimestamp ?? Infinity,
    );
    cached = { token: { token: access.token, expiresAtMs }, refreshAtMs };
    return cached.token;
  };

  return {
    getToken(): Promise<RelayToken> {
      if (cached && now() < cached.refreshAtMs) return Promise.resolve(cached.token);
      inflight ??= fetchToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
