import { tokenProviderForCredential } from '../../../common/src/config/relay-token-provider';
import type { RelayToken, TokenProvider } from '../../../common/src/hc/token-provider';
import type { ForwarderCredential } from '../config/types';

/**
 * A token provider whose credential can be swapped while listeners use it: a new pre-issued token or a rotated
 * key reaches live control channels through `renewToken()`, without a reconnect.
 */
export class CredentialTokenProvider implements TokenProvider {
  private inner: TokenProvider;

  constructor(
    credential: ForwarderCredential,
    private readonly tokenLifetimeMs?: number,
  ) {
    this.inner = this.providerFor(credential);
  }

  /** Uses `credential` from now on; call each listener's `renewToken()` afterwards. */
  update(credential: ForwarderCredential): void {
    this.inner = this.providerFor(credential);
  }

  /** A token from the current credential. */
  getToken(resource: string): Promise<RelayToken> {
    return this.inner.getToken(resource);
  }

  private providerFor(credential: ForwarderCredential): TokenProvider {
    return tokenProviderForCredential(credential, {
      ...(this.tokenLifetimeMs !== undefined && { tokenLifetimeMs: this.tokenLifetimeMs }),
    });
  }
}
