import type { AccessToken, TokenCredential } from '@azure/identity';
import {
  entraTokenProvider,
  RELAY_ENTRA_SCOPE,
} from '../../../../../modules/common/src/hc/entra-token-provider';
import { RelayError } from '../../../../../modules/common/src/hc/errors';

// A scripted credential stands in for Entra ID (it cannot run here); the sandbox-backed path with the real
// ManagedIdentityCredential is tests/e2e/entra-id.test.ts.
class ScriptedCredential implements TokenCredential {
  readonly scopes: string[] = [];
  next: () => Promise<AccessToken | null>;
  private n = 0;

  constructor(
    private readonly clock: { now: number },
    lifetimeMs: number,
  ) {
    this.next = async () => ({ token: `jwt-${++this.n}`, expiresOnTimestamp: this.clock.now + lifetimeMs });
  }

  getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push(String(scopes));
    return this.next();
  }
}

const HOUR = 3_600_000;
const MIN = 60_000;

describe('entraTokenProvider', () => {
  const clock = { now: 1_000_000 };
  const nowMs = (): number => clock.now;
  beforeEach(() => {
    clock.now = 1_000_000;
  });

  it('asks for https://relay.azure.net/.default and hands the bare JWT with its expiry', async () => {
    const credential = new ScriptedCredential(clock, HOUR);
    const token = await entraTokenProvider(credential, { nowMs }).getToken('http://ns/hc');
    expect(credential.scopes).toEqual([RELAY_ENTRA_SCOPE]);
    expect(RELAY_ENTRA_SCOPE).toBe('https://relay.azure.net/.default');
    expect(token).toEqual({ token: 'jwt-1', expiresAtMs: clock.now + HOUR });
  });

  it('serves every resource from one cached token until half its life, then fetches a new one', async () => {
    const credential = new ScriptedCredential(clock, HOUR);
    const provider = entraTokenProvider(credential, { nowMs });
    expect((await provider.getToken('http://ns/a')).token).toBe('jwt-1');
    clock.now += 29 * MIN;
    expect((await provider.getToken('http://ns/b')).token).toBe('jwt-1');
    clock.now += 2 * MIN;
    expect((await provider.getToken('http://ns/a')).token).toBe('jwt-2');
    expect(credential.scopes).toHaveLength(2);
  });

  it('refreshes refreshBeforeExpiryMs before expiry when that comes before half-life', async () => {
    const credential = new ScriptedCredential(clock, 10 * MIN);
    const provider = entraTokenProvider(credential, { nowMs, refreshBeforeExpiryMs: 8 * MIN });
    await provider.getToken('r');
    clock.now += 2 * MIN + 1;
    expect((await provider.getToken('r')).token).toBe('jwt-2');
  });

  it('shares one credential request between concurrent callers', async () => {
    const credential = new ScriptedCredential(clock, HOUR);
    const provider = entraTokenProvider(credential, { nowMs });
    const tokens = await Promise.all([
      provider.getToken('a'),
      provider.getToken('b'),
      provider.getToken('c'),
    ]);
    expect(tokens.map((t) => t.token)).toEqual(['jwt-1', 'jwt-1', 'jwt-1']);
    expect(credential.scopes).toHaveLength(1);
  });

  it('keeps serving a still-valid token when a refresh fails, and fails with RELAY_UNAUTHORIZED once it expired', async () => {
    const credential = new ScriptedCredential(clock, HOUR);
    const provider = entraTokenProvider(credential, { nowMs });
    await provider.getToken('r');
    credential.next = () => Promise.reject(new Error('ManagedIdentityCredential: IMDS unreachable'));
    clock.now += 40 * MIN;
    expect((await provider.getToken('r')).token).toBe('jwt-1');
    clock.now += 21 * MIN;
    const error = await provider.getToken('r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ code: 'RELAY_UNAUTHORIZED', retryable: true });
    expect((error as Error).message).toMatch(/IMDS unreachable/);
  });

  it('fails with RELAY_UNAUTHORIZED when the credential returns no token', async () => {
    const credential = new ScriptedCredential(clock, HOUR);
    credential.next = async () => null;
    await expect(entraTokenProvider(credential, { nowMs }).getToken('r')).rejects.toMatchObject({
      code: 'RELAY_UNAUTHORIZED',
    });
  });
});
