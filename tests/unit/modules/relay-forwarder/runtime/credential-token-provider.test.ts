import { createSasToken, parseSasToken, verifySasToken } from '../../../../../modules/common/src/hc/sas';
import { CredentialTokenProvider } from '../../../../../modules/relay-forwarder/src/runtime/credential-token-provider';

const RESOURCE = 'http://ns.example/site-a';

describe('CredentialTokenProvider', () => {
  it('mints tokens from a key and switches to a pre-issued token and back', async () => {
    const provider = new CredentialTokenProvider({ kind: 'key', keyName: 'listen', key: 'a2V5MQ==' }, 60_000);
    const minted = await provider.getToken(RESOURCE);
    expect(verifySasToken(minted.token, { resource: RESOURCE, keyFor: () => 'a2V5MQ==' }).ok).toBe(true);

    const issued = createSasToken({
      resource: RESOURCE,
      keyName: 'listen',
      key: 'a2V5Mg==',
      lifetimeMs: 120_000,
    });
    provider.update({ kind: 'token', token: issued, expiresAtMs: parseSasToken(issued).expiresAtSec * 1000 });
    expect(await provider.getToken(RESOURCE)).toEqual({
      token: issued,
      expiresAtMs: parseSasToken(issued).expiresAtSec * 1000,
    });

    provider.update({ kind: 'key', keyName: 'listen', key: 'a2V5Mw==' });
    const rotated = await provider.getToken(RESOURCE);
    expect(verifySasToken(rotated.token, { resource: RESOURCE, keyFor: () => 'a2V5Mw==' }).ok).toBe(true);
  });
});
