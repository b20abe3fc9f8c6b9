import { ArmError } from '../../../../sandbox/src/arm/errors';
import { SandboxArmCredential } from '../../../../sandbox/src/arm/credential';
import { audienceOfScope, mintArmToken, verifyArmToken } from '../../../../sandbox/src/arm/token';
import { createSandboxEntraIssuer } from '../../../../sandbox/src/entra';

const secret = 'unit-secret';
const endpoint = 'https://127.0.0.1:4443';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArmError);
    expect((err as ArmError).status).toBe(401);
    return (err as ArmError).code;
  }
  throw new Error('expected a refusal');
}

describe('sandbox ARM tokens', () => {
  it('round-trips a minted token for the sandbox endpoint and for ARM audiences', () => {
    for (const audience of [
      endpoint,
      'https://management.azure.com',
      'https://management.core.windows.net/',
    ]) {
      const { token, expiresOnTimestamp } = mintArmToken({
        secret,
        audience,
        lifetimeMs: 60_000,
        nowMs: 1_000_000,
      });
      expect(expiresOnTimestamp).toBe(1_060_000);
      const claims = verifyArmToken(`Bearer ${token}`, { secret, audiences: [endpoint], nowMs: 1_010_000 });
      expect(claims.aud).toBe(audience);
    }
  });

  it('refuses a missing or non-Bearer header with AuthenticationFailed', () => {
    expect(codeOf(() => verifyArmToken(undefined, { secret, audiences: [] }))).toBe('AuthenticationFailed');
    expect(codeOf(() => verifyArmToken('SharedAccessSignature sr=x', { secret, audiences: [] }))).toBe(
      'AuthenticationFailed',
    );
  });

  it('refuses malformed tokens, other secrets and other algorithms with InvalidAuthenticationToken', () => {
    const { token } = mintArmToken({ secret, audience: endpoint, lifetimeMs: 60_000 });
    const [head, body] = token.split('.') as [string, string, string];
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    for (const bad of ['abc', 'a.b.c', `${head}.${body}.AAAA`, none]) {
      expect(codeOf(() => verifyArmToken(`Bearer ${bad}`, { secret, audiences: [endpoint] }))).toBe(
        'InvalidAuthenticationToken',
      );
    }
    expect(codeOf(() => verifyArmToken(`Bearer ${token}`, { secret: 'other', audiences: [endpoint] }))).toBe(
      'InvalidAuthenticationToken',
    );
  });

  it('refuses expired tokens and tokens for another audience', () => {
    const { token } = mintArmToken({ secret, audience: endpoint, lifetimeMs: 60_000, nowMs: 0 });
    expect(
      codeOf(() => verifyArmToken(`Bearer ${token}`, { secret, audiences: [endpoint], nowMs: 61_000 })),
    ).toBe('ExpiredAuthenticationToken');
    const vault = mintArmToken({ secret, audience: 'https://vault.azure.net', lifetimeMs: 60_000 }).token;
    expect(codeOf(() => verifyArmToken(`Bearer ${vault}`, { secret, audiences: [endpoint] }))).toBe(
      'InvalidAuthenticationTokenAudience',
    );
  });

  it('derives the audience from a .default scope, and the credential mints for it', async () => {
    expect(audienceOfScope('https://management.azure.com/.default')).toBe('https://management.azure.com');
    expect(audienceOfScope(`${endpoint}/.default`)).toBe(endpoint);
    const cred = new SandboxArmCredential(secret, { tokenLifetimeMs: 120_000 });
    const access = await cred.getToken([`${endpoint}/.default`]);
    expect(access).not.toBeNull();
    expect(verifyArmToken(`Bearer ${access!.token}`, { secret, audiences: [endpoint] }).aud).toBe(endpoint);
    expect(() => new SandboxArmCredential('')).toThrow();
  });

  it('accepts RS256 tokens of the trusted sandbox Entra ID issuer (its managed identity tokens), and no other', () => {
    const tenant = createSandboxEntraIssuer({ identities: [{ clientId: 'fleet-controller', roles: [] }] });
    const other = createSandboxEntraIssuer({ identities: [{ clientId: 'fleet-controller', roles: [] }] });
    const identity = tenant.identity('fleet-controller')!;
    const entra = tenant.trust;
    const token = tenant.mint(identity, { audience: endpoint }).token;
    expect(verifyArmToken(`Bearer ${token}`, { secret, audiences: [endpoint], entra })).toMatchObject({
      aud: endpoint,
      iss: tenant.issuer,
    });
    // ARM's own audience works too; another tenant's key, or no trust configured, does not.
    const arm = tenant.mint(identity, { audience: 'https://management.azure.com' }).token;
    expect(verifyArmToken(`Bearer ${arm}`, { secret, audiences: [endpoint], entra }).aud).toBe(
      'https://management.azure.com',
    );
    const foreign = other.mint(other.identity('fleet-controller')!, { audience: endpoint }).token;
    expect(codeOf(() => verifyArmToken(`Bearer ${foreign}`, { secret, audiences: [endpoint], entra }))).toBe(
      'InvalidAuthenticationToken',
    );
    expect(codeOf(() => verifyArmToken(`Bearer ${token}`, { secret, audiences: [endpoint] }))).toBe(
      'InvalidAuthenticationToken',
    );
    // The relay's audience is not ARM's; an expired token is refused as ARM refuses it.
    const relay = tenant.mint(identity).token;
    expect(codeOf(() => verifyArmToken(`Bearer ${relay}`, { secret, audiences: [endpoint], entra }))).toBe(
      'InvalidAuthenticationTokenAudience',
    );
    const old = tenant.mint(identity, { audience: endpoint, nowMs: Date.now() - 7_200_000 }).token;
    expect(codeOf(() => verifyArmToken(`Bearer ${old}`, { secret, audiences: [endpoint], entra }))).toBe(
      'ExpiredAuthenticationToken',
    );
  });
});
