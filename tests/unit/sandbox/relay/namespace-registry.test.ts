import { MAX_RULES_PER_SCOPE, NamespaceRegistry } from '../../../../sandbox/src/relay/namespace-registry';

describe('NamespaceRegistry', () => {
  let registry: NamespaceRegistry;
  let now = 1_000;

  beforeEach(() => {
    now = 1_000;
    registry = new NamespaceRegistry(() => now);
  });

  it('creates hybrid connections that require client authorization by default, and updates them in place', () => {
    const hc = registry.createHybridConnection('Site-A');
    expect(hc).toEqual({
      name: 'Site-A',
      requiresClientAuthorization: true,
      createdAtMs: 1000,
      updatedAtMs: 1000,
    });
    now = 2_000;
    const updated = registry.createHybridConnection('site-a', {
      requiresClientAuthorization: false,
      userMetadata: 'm',
    });
    expect(updated).toEqual({
      name: 'Site-A',
      requiresClientAuthorization: false,
      userMetadata: 'm',
      createdAtMs: 1000,
      updatedAtMs: 2000,
    });
    expect(registry.getHybridConnection('SITE-A')).toBe(updated);
  });

  it.each(['', 'has space', '/lead', 'trail/', 'a//b', 'x'.repeat(261), 'bad:char'])(
    'refuses the name %p',
    (name) => {
      expect(() => registry.createHybridConnection(name)).toThrow(
        expect.objectContaining({ code: 'SANDBOX_RELAY_INVALID' }),
      );
    },
  );

  it('resolves a request path to the longest registered name and the suffix after it', () => {
    registry.createHybridConnection('a');
    registry.createHybridConnection('a/b');
    expect(registry.resolve('a/b/c/d')).toMatchObject({ hc: { name: 'a/b' }, suffix: '/c/d' });
    expect(registry.resolve('A/x')).toMatchObject({ hc: { name: 'a' }, suffix: '/x' });
    expect(registry.resolve('a')).toMatchObject({ hc: { name: 'a' }, suffix: '' });
    expect(registry.resolve('ab')).toBeUndefined();
  });

  it('creates rules with two distinct 256-bit keys and keeps the keys when the rights change', () => {
    const rule = registry.createAuthorizationRule(undefined, 'send', ['Send', 'Send']);
    expect(rule.rights).toEqual(['Send']);
    expect(Buffer.from(rule.primaryKey, 'base64')).toHaveLength(32);
    expect(rule.secondaryKey).not.toBe(rule.primaryKey);
    const widened = registry.createAuthorizationRule(undefined, 'SEND', ['Listen', 'Send']);
    expect(widened).toMatchObject({ name: 'send', rights: ['Listen', 'Send'], primaryKey: rule.primaryKey });
  });

  it('keeps rules per scope and drops an entity’s rules with it', () => {
    registry.createHybridConnection('hc');
    registry.createAuthorizationRule('hc', 'l', ['Listen']);
    expect(registry.findAuthorizationRule('hc', 'L')).toBeDefined();
    expect(registry.findAuthorizationRule(undefined, 'l')).toBeUndefined();
    const deleted: string[] = [];
    registry.on('hybridConnectionDeleted', (name) => deleted.push(name));
    expect(registry.deleteHybridConnection('HC')).toBe(true);
    expect(deleted).toEqual(['hc']);
    expect(registry.findAuthorizationRule('hc', 'l')).toBeUndefined();
    expect(() => registry.listAuthorizationRules('hc')).toThrow(
      expect.objectContaining({ code: 'SANDBOX_RELAY_NOT_FOUND' }),
    );
  });

  it('refuses bad rights, bad names and more than 12 rules per scope', () => {
    expect(() => registry.createAuthorizationRule(undefined, 'r', [])).toThrow(/rights/);
    expect(() => registry.createAuthorizationRule(undefined, 'r', ['Fly' as 'Send'])).toThrow(/rights/);
    expect(() => registry.createAuthorizationRule(undefined, 'bad name', ['Send'])).toThrow(/rule name/);
    for (let i = 0; i < MAX_RULES_PER_SCOPE; i++)
      registry.createAuthorizationRule(undefined, `r${i}`, ['Send']);
    expect(() => registry.createAuthorizationRule(undefined, 'r-extra', ['Send'])).toThrow(
      expect.objectContaining({ code: 'SANDBOX_RELAY_QUOTA', status: 409 }),
    );
    expect(() => registry.createAuthorizationRule(undefined, 'r0', ['Listen'])).not.toThrow();
  });

  it('regenerates one key at a time, or sets a given one', () => {
    const rule = registry.createAuthorizationRule(undefined, 'r', ['Send']);
    const rotated = registry.regenerateKey(undefined, 'r', 'SecondaryKey');
    expect(rotated.primaryKey).toBe(rule.primaryKey);
    expect(rotated.secondaryKey).not.toBe(rule.secondaryKey);
    expect(
      registry.regenerateKey(undefined, 'r', 'PrimaryKey', 'a-chosen-key-of-some-length').primaryKey,
    ).toBe('a-chosen-key-of-some-length');
    expect(() => registry.regenerateKey(undefined, 'r', 'PrimaryKey', 'short')).toThrow(/at least 16/);
    expect(() => registry.regenerateKey(undefined, 'nope', 'PrimaryKey')).toThrow(/does not exist/);
  });
});
