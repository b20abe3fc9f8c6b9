import type { TokenCredential } from '@azure/identity';
import { sharedEntraCredential, type EntraIdentitySettings } from '../hc/entra-credential';
import { entraTokenProvider } from '../hc/entra-token-provider';
import { keyTokenProvider, StaticTokenProvider, type TokenProvider } from '../hc/token-provider';
import type { RelayCredential } from './credentials';

/** Options of tokenProviderForCredential. */
export interface RelayTokenProviderOptions {
  /** Lifetime of tokens minted from a SAS key. */
  readonly tokenLifetimeMs?: number;
  /** The Entra ID credential for an identity; default one shared per identity (sharedEntraCredential). */
  readonly entraCredential?: (settings: EntraIdentitySettings) => TokenCredential;
}

/** The token provider for a configured credential: SAS minted from a key, a pre-issued SAS token, or Entra ID. */
export function tokenProviderForCredential(
  credential: RelayCredential,
  options: RelayTokenProviderOptions = {},
): TokenProvider {
  switch (credential.kind) {
    case 'key':
      return keyTokenProvider(credential.keyName, credential.key, options.tokenLifetimeMs);
    case 'token':
      return new StaticTokenProvider(credential.token);
    case 'entra': {
      const settings: EntraIdentitySettings = {
        ...(credential.clientId !== undefined && { clientId: credential.clientId }),
        ...(credential.tenantId !== undefined && { tenantId: credential.tenantId }),
      };
      return entraTokenProvider((options.entraCredential ?? sharedEntraCredential)(settings));
    }
  }
}
