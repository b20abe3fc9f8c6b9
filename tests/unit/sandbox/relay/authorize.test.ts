import type { IncomingMessage } from 'node:http';
import { createSasToken, relayResourceUri } from '../../../../modules/common/src/hc/sas';
import { authorize, findToken, grants } from '../../../../sandbox/src/relay/authorize';
import { NamespaceRegistry } from '../../../../sandbox/src/relay/namespace-registry';

const NS = '127.0.0.1:9999';

describe('authorize', () => {
  const registry = new NamespaceRegistry();
  registry.createHybridConnection('hc1');
  registry.createHybridConnection('hc2');
  const listenAll = registry.createAuthorizationRule(undefined, 'listen-all', ['Listen']);
  const manage = registry.createAuthorizationRule(undefined, 'manage', ['Manage']);
  const hc1Send = registry.createAuthorizationRule('hc1', 'hc1-send', ['Send']);
  const token = (resourcePath: string | undefined, keyName: string, key: string, lifetimeMs = 60_000) =>
    createSasToken({ resource: relayResourceUri(NS, resourcePath), keyName, key, lifetimeMs });
  const check = (t: string | undefined, entity: string | undefined, right: 'Listen' | 'Send' | 'Manage') =>
    authorize(registry, t, { namespace: NS, entity, right });

  it('grants a namespace rule’s right on any entity, with the token’s expiry', () => {
    const t = token(undefined, 'listen-all', listenAll.primaryKey);
    const verdict = check(t, 'hc1', 'Listen');
    expect(verdict).toMatchObject({ ok: true, ruleName: 'listen-all', rights: ['Listen'] });
    expect(verdict.ok && verdict.expiresAtMs).toBeGreaterThan(Date.now());
  });

  it('accepts the secondary key and a whole-token percent-encoding', () => {
    const t = token('hc1', 'listen-all', listenAll.secondaryKey);
    expect(check(t, 'hc1', 'Listen').ok).toBe(true);
    expect(check(encodeURIComponent(t), 'hc1', 'Listen').ok).toBe(true);
  });

  it('lets Manage stand for Listen and Send', () => {
    expect(check(token('hc2', 'manage', manage.primaryKey), 'hc2', 'Send').ok).toBe(true);
    expect(grants(['Manage'], 'Listen')).toBe(true);
    expect(grants(['Send'], 'Listen')).toBe(false);
  });

  it.each([
    ['missing', undefined, /MissingToken/],
    ['malformed', 'SharedAccessSignature sr=x', /MalformedToken/],
    ['unknown rule', () => token('hc1', 'nobody', 'k'), /no authorization rule "nobody"/],
    ['bad signature', () => token('hc1', 'listen-all', manage.primaryKey), /InvalidSignature/],
    ['expired', () => token('hc1', 'listen-all', listenAll.primaryKey, -5000), /ExpiredToken/],
  ])('refuses a %s token with 401', (_what, t, reason) => {
    const verdict = check(typeof t === 'function' ? t() : t, 'hc1', 'Listen');
    expect(verdict).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(reason) });
  });

  it('refuses with 403 a valid token lacking the right or signed for another path', () => {
    expect(check(token('hc1', 'listen-all', listenAll.primaryKey), 'hc1', 'Send')).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(check(token('hc2', 'listen-all', listenAll.primaryKey), 'hc1', 'Listen')).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringMatching(/not valid for this path/),
    });
  });

  it('keeps an entity rule to its own entity', () => {
    expect(check(token('hc1', 'hc1-send', hc1Send.primaryKey), 'hc1', 'Send').ok).toBe(true);
    expect(check(token('hc2', 'hc1-send', hc1Send.primaryKey), 'hc2', 'Send')).toMatchObject({ status: 401 });
    // Signed for the namespace with an entity rule: the rule does not live there.
    expect(check(token(undefined, 'hc1-send', hc1Send.primaryKey), 'hc1', 'Send')).toMatchObject({
      status: 401,
    });
  });

  it('needs a namespace-level token for namespace operations', () => {
    expect(check(token(undefined, 'manage', manage.primaryKey), undefined, 'Manage').ok).toBe(true);
    expect(check(token('hc1', 'manage', manage.primaryKey), undefined, 'Manage')).toMatchObject({
      status: 403,
    });
  });
});

describe('findToken', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('prefers sb-hc-token, then ServiceBusAuthorization, then a SAS Authorization header', () => {
    const q = new URLSearchParams({ 'sb-hc-token': 'SharedAccessSignature q' });
    expect(findToken(req({ servicebusauthorization: 'SharedAccessSignature h' }), q)).toEqual({
      token: 'SharedAccessSignature q',
      source: 'sb-hc-token',
    });
    expect(
      findToken(req({ servicebusauthorization: 'SharedAccessSignature h' }), new URLSearchParams())?.source,
    ).toBe('servicebusauthorization');
    expect(findToken(req({ authorization: 'SharedAccessSignature a' }), new URLSearchParams())?.source).toBe(
      'authorization',
    );
    expect(findToken(req({ authorization: 'Bearer x' }), new URLSearchParams())).toBeUndefined();
  });
});
