import { createSandboxEntraIssuer } from '../../../../sandbox/src/entra';
import { looksLikeJwt } from '../../../../sandbox/src/entra/jwt';
import {
  authorizeBearer,
  isBearerToken,
  rightsFromRoles,
  trustEntraIssuer,
} from '../../../../sandbox/src/relay/entra-auth';
import { NamespaceRegistry } from '../../../../sandbox/src/relay/namespace-registry';

describe('rightsFromRoles', () => {
  it('maps the built-in roles to rights, namespace-wide or for one hybrid connection (case-insensitive)', () => {
    expect(rightsFromRoles(['Azure Relay Listener'], 'a')).toEqual(['Listen']);
    expect(rightsFromRoles(['Azure Relay Sender@A'], 'a')).toEqual(['Send']);
    expect(rightsFromRoles(['Azure Relay Owner@a'], 'a').sort()).toEqual(['Listen', 'Manage', 'Send']);
    expect(rightsFromRoles(['Azure Relay Listener@b'], 'a')).toEqual([]);
    // A namespace-level request counts only namespace-scope roles.
    expect(rightsFromRoles(['Azure Relay Owner@a'], undefined)).toEqual([]);
    expect(rightsFromRoles(['Contributor', 42, 'Listen'], 'a')).toEqual([]);
    expect(rightsFromRoles('Azure Relay Owner', 'a')).toEqual([]);
  });
});

describe('bearer token detection', () => {
  it('treats "Bearer x" and a bare JWT as bearer tokens and a SAS token as not', () => {
    const jwt = createSandboxEntraIssuer().mint({ clientId: 'c', roles: [] }).token;
    expect(looksLikeJwt(jwt)).toBe(true);
    expect(isBearerToken(jwt)).toBe(true);
    expect(isBearerToken('Bearer anything')).toBe(true);
    expect(isBearerToken('SharedAccessSignature sr=http%3A%2F%2Fns%2Fa&sig=x&se=1&skn=r')).toBe(false);
  });
});

describe('authorizeBearer', () => {
  it('checks expiry and not-before against the request clock, and owners may manage the namespace', () => {
    const registry = new NamespaceRegistry();
    const issuer = createSandboxEntraIssuer();
    trustEntraIssuer(registry, { trust: issuer.trust });
    const owner = { clientId: 'o', objectId: 'oid-1', roles: [{ role: 'Azure Relay Owner' as const }] };
    const nowMs = Date.UTC(2030, 0, 1);
    const { token } = issuer.mint(owner, { nowMs, lifetimeMs: 60_000 });
    const request = { namespace: 'ns', right: 'Manage' as const };
    expect(authorizeBearer(registry, token, { ...request, nowMs })).toMatchObject({
      ok: true,
      ruleName: 'entra:oid-1',
      expiresAtMs: nowMs + 60_000,
    });
    expect(authorizeBearer(registry, token, { ...request, nowMs: nowMs + 60_000 })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/^ExpiredToken/),
    });
    expect(authorizeBearer(registry, token, { ...request, nowMs: nowMs - 301_000 })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/not valid before/),
    });
    expect(authorizeBearer(registry, 'Bearer not.a.jwt', { ...request, nowMs })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/^MalformedToken/),
    });
  });
});
