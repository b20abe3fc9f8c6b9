// The sandbox identity endpoint driven by the unmodified @azure/identity ManagedIdentityCredential (App Service
// protocol over loopback HTTP), and its refusals on the raw protocol.
import { ManagedIdentityCredential } from '@azure/identity';
import {
  createSandboxEntraIssuer,
  startSandboxIdentityEndpoint,
  type SandboxEntraIssuer,
  type SandboxIdentityEndpoint,
} from '../../sandbox/src/entra';
import { decodeJwt, verifyRs256Signature } from '../../sandbox/src/entra/jwt';

describe('sandbox managed identity endpoint', () => {
  let issuer: SandboxEntraIssuer;
  let endpoint: SandboxIdentityEndpoint;
  const saved = {
    IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
    IDENTITY_HEADER: process.env.IDENTITY_HEADER,
  };

  beforeAll(async () => {
    issuer = createSandboxEntraIssuer({
      identities: [
        { clientId: 'system-mi', roles: [{ role: 'Azure Relay Owner' }] },
        { clientId: 'user-mi', roles: [{ role: 'Azure Relay Listener', entity: 'site-a' }] },
      ],
    });
    endpoint = await startSandboxIdentityEndpoint({ issuer });
    Object.assign(process.env, endpoint.environment());
  });

  afterAll(async () => {
    await endpoint.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const claimsOf = (token: string) => decodeJwt(token).claims;

  it('gives ManagedIdentityCredential signed relay tokens for the user-assigned and system-assigned identities', async () => {
    const user = await new ManagedIdentityCredential({ clientId: 'user-mi' }).getToken(
      'https://relay.azure.net/.default',
    );
    expect(verifyRs256Signature(decodeJwt(user!.token), issuer.trust.publicKey)).toBe(true);
    expect(claimsOf(user!.token)).toMatchObject({
      aud: 'https://relay.azure.net',
      iss: issuer.issuer,
      appid: 'user-mi',
      roles: ['Azure Relay Listener@site-a'],
    });
    // MSAL turns expires_on into a relative expiry and back, so the SDK's expiry may round down by a second.
    const expMs = (claimsOf(user!.token).exp as number) * 1000;
    expect(user!.expiresOnTimestamp).toBeLessThanOrEqual(expMs);
    expect(user!.expiresOnTimestamp).toBeGreaterThan(expMs - 2_000);

    const system = await new ManagedIdentityCredential().getToken('https://relay.azure.net/.default');
    expect(claimsOf(system!.token)).toMatchObject({ appid: 'system-mi', roles: ['Azure Relay Owner'] });
  });

  it('mints for the resource asked for, so a token for another audience is possible (and refused by the relay)', async () => {
    const arm = await new ManagedIdentityCredential({ clientId: 'user-mi' }).getToken(
      'https://management.azure.com/.default',
    );
    expect(claimsOf(arm!.token).aud).toBe('https://management.azure.com');
  });

  it('refuses an unknown client id through the SDK, and a wrong secret, api-version or missing resource', async () => {
    await expect(
      new ManagedIdentityCredential({ clientId: 'nobody' }).getToken('https://relay.azure.net/.default'),
    ).rejects.toThrow();
    const call = async (query: string, secret = endpoint.secret) => {
      const res = await fetch(`${endpoint.url}?${query}`, { headers: { 'X-IDENTITY-HEADER': secret } });
      return { status: res.status, body: (await res.json()) as { message?: string } };
    };
    const relay = 'resource=https%3A%2F%2Frelay.azure.net';
    expect((await call(`api-version=2019-08-01&${relay}`, 'wrong')).status).toBe(401);
    expect((await call(`api-version=2017-09-01&${relay}`)).status).toBe(400);
    expect((await call('api-version=2019-08-01')).status).toBe(400);
    expect(await call(`api-version=2019-08-01&${relay}&client_id=nobody`)).toEqual({
      status: 400,
      body: { statusCode: 400, message: 'no managed identity with client id nobody is assigned' },
    });
    expect((await call(`api-version=2019-08-01&${relay}&mi_res_id=x`)).status).toBe(400);
    expect((await call(`api-version=2019-08-01&${relay}`)).status).toBe(200);
  });
});
