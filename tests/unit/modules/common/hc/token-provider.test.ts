import { RelayError, isRelayError } from '../../../../../modules/common/src/hc/errors';
import { createSasToken, verifySasToken } from '../../../../../modules/common/src/hc/sas';
import {
  keyTokenProvider,
  staticTokenProvider,
  tokenProviderFromConnectionString,
  StaticTokenProvider,
} from '../../../../../modules/common/src/hc/token-provider';

const KEY = 'a2V5LWZvci10b2tlbi1wcm92aWRlci10ZXN0cw==';
const RESOURCE = 'http://ns.example/hyco';

function preIssued(resource: string, lifetimeMs: number, nowMs = Date.now()): string {
  return createSasToken({ resource, keyName: 'send', key: KEY, lifetimeMs, nowMs });
}

describe('keyTokenProvider', () => {
  it('mints a verifiable token for the requested resource with the chosen lifetime', async () => {
    let nowMs = Date.UTC(2031, 5, 1);
    const provider = keyTokenProvider('listen', KEY, 10 * 60_000, () => nowMs);
    const first = await provider.getToken(RESOURCE);
    expect(first.expiresAtMs).toBe(nowMs + 10 * 60_000);
    expect(
      verifySasToken(first.token, {
        resource: RESOURCE,
        keyFor: (n) => (n === 'listen' ? KEY : undefined),
        nowMs,
      }).ok,
    ).toBe(true);
    nowMs += 60_000;
    const second = await provider.getToken(RESOURCE);
    expect(second.expiresAtMs).toBe(first.expiresAtMs + 60_000);
    expect(second.token).not.toBe(first.token);
  });

  it('refuses an empty key or a lifetime under a second', () => {
    expect(() => keyTokenProvider('listen', '')).toThrow(RelayError);
    expect(() => keyTokenProvider('', KEY)).toThrow(RelayError);
    expect(() => keyTokenProvider('listen', KEY, 10)).toThrow(/at least 1000 ms/);
  });
});

describe('staticTokenProvider', () => {
  it('returns the pre-issued token with its expiry, and the replacement after update()', async () => {
    const first = preIssued(RESOURCE, 60_000);
    const provider = staticTokenProvider(first);
    expect(provider).toBeInstanceOf(StaticTokenProvider);
    await expect(provider.getToken(RESOURCE)).resolves.toMatchObject({ token: first });
    const second = preIssued(RESOURCE, 120_000);
    provider.update(second);
    const got = await provider.getToken(RESOURCE);
    expect(got.token).toBe(second);
    expect(got.expiresAtMs).toBeGreaterThan(Date.now() + 100_000);
  });

  it('accepts a namespace-wide token for an entity below it', async () => {
    const provider = staticTokenProvider(preIssued('http://ns.example/', 60_000));
    await expect(provider.getToken(RESOURCE)).resolves.toBeDefined();
  });

  it('fails fast, without echoing the token, when the token is for another entity', async () => {
    const token = preIssued('http://ns.example/other', 60_000);
    const outcome = await staticTokenProvider(token)
      .getToken(RESOURCE)
      .catch((err: unknown) => err);
    expect(isRelayError(outcome, 'RELAY_BAD_TOKEN')).toBe(true);
    expect((outcome as Error).message).not.toContain('sig=');
  });

  it('refuses text that is not a SAS token, at construction and on update', () => {
    expect(() => staticTokenProvider('Bearer xyz')).toThrow(RelayError);
    const provider = staticTokenProvider(preIssued(RESOURCE, 60_000));
    expect(() => provider.update('nonsense')).toThrow(RelayError);
  });
});

describe('tokenProviderFromConnectionString', () => {
  it('mints tokens from a key', async () => {
    const provider = tokenProviderFromConnectionString(
      { namespace: 'ns.example', sharedAccessKeyName: 'listen', sharedAccessKey: KEY },
      { tokenLifetimeMs: 5 * 60_000 },
    );
    const { expiresAtMs } = await provider.getToken(RESOURCE);
    expect(expiresAtMs - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(expiresAtMs - Date.now()).toBeLessThanOrEqual(5 * 60_000);
  });

  it('uses a pre-issued signature as a replaceable static token', async () => {
    const token = preIssued(RESOURCE, 60_000);
    const provider = tokenProviderFromConnectionString({
      namespace: 'ns.example',
      sharedAccessSignature: token,
    });
    expect(provider).toBeInstanceOf(StaticTokenProvider);
    await expect(provider.getToken(RESOURCE)).resolves.toMatchObject({ token });
  });

  it('refuses a connection string without a credential', () => {
    expect(() => tokenProviderFromConnectionString({ namespace: 'ns.example' })).toThrow(/neither/);
  });
});
