import { createSasToken } from '../../../../../modules/common/src/hc/sas';
import { normalizeForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/normalize';
import type { ForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/types';

const NOW_MS = Date.UTC(2030, 0, 1);
const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==';
const CS = `Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${KEY};EntityPath=site-a`;

function token(resource: string, lifetimeMs = 3_600_000): string {
  return createSasToken({ resource, keyName: 'listen', key: KEY, lifetimeMs, nowMs: NOW_MS });
}

function ok(document: unknown): ForwarderConfig {
  const result = normalizeForwarderConfig(document, { nowMs: NOW_MS });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

function problems(document: unknown): Array<{ path: string; message: string }> {
  const result = normalizeForwarderConfig(document, { nowMs: NOW_MS });
  if (result.ok) throw new Error('expected problems');
  return [...result.problems];
}

describe('normalizeForwarderConfig', () => {
  it('applies the schema defaults and resolves a connection string', () => {
    const config = ok({
      schemaVersion: 1,
      hybridConnections: { siteA: { connectionString: CS, services: { sql: { target: 'db.local:1433' } } } },
    });
    expect(config.drainTimeoutMs).toBe(30000);
    expect(config.logLevel).toBeUndefined();
    const hc = config.hybridConnections.get('siteA')!;
    expect(hc).toMatchObject({
      name: 'siteA',
      namespace: 'contoso.servicebus.windows.net',
      path: 'site-a',
      listeners: 2,
      credential: { kind: 'key', keyName: 'listen', key: KEY },
    });
    expect(hc.services.get('sql')).toEqual({
      name: 'sql',
      target: { kind: 'tcp', host: 'db.local', port: 1433 },
      maxConnections: 1000,
      connectTimeoutMs: 10000,
      idleTimeoutMs: 0,
      enabled: true,
    });
  });

  it('accepts an empty forwarder and explicit settings', () => {
    expect(ok({ schemaVersion: 1 }).hybridConnections.size).toBe(0);
    const config = ok({
      schemaVersion: 1,
      $version: 7,
      logLevel: 'debug',
      drainTimeoutMs: 500,
      hybridConnections: {
        siteA: {
          connectionString: CS,
          listeners: 3,
          muxMaxStreams: 0,
          services: {
            web: {
              target: '[::1]:8080',
              maxConnections: 5,
              connectTimeoutMs: 200,
              idleTimeoutMs: 60000,
              enabled: false,
            },
            sock: { target: 'unix:/run/app.sock' },
          },
        },
      },
    });
    expect(config.logLevel).toBe('debug');
    expect(config.drainTimeoutMs).toBe(500);
    const hc = config.hybridConnections.get('siteA')!;
    expect(hc.listeners).toBe(3);
    expect(hc.muxMaxStreams).toBe(0);
    expect(hc.services.get('web')).toMatchObject({ maxConnections: 5, connectTimeoutMs: 200, enabled: false });
    expect(hc.services.get('sock')!.target).toEqual({ kind: 'unix', path: '/run/app.sock' });
  });

  it('takes a namespace and pre-issued token, reading the path and expiry from the token', () => {
    const sasToken = token('http://contoso.servicebus.windows.net/site-b');
    const hc = ok({
      schemaVersion: 1,
      hybridConnections: { b: { namespace: 'contoso.servicebus.windows.net', sasToken, services: {} } },
    }).hybridConnections.get('b')!;
    expect(hc.path).toBe('site-b');
    expect(hc.credential).toEqual({ kind: 'token', token: sasToken, expiresAtMs: NOW_MS + 3_600_000 });
  });

  it('takes a token from a SharedAccessSignature connection string, and an explicit path', () => {
    const sas = token('sb://127.0.0.1/site-c');
    const hc = ok({
      schemaVersion: 1,
      hybridConnections: {
        c: {
          connectionString: `Endpoint=sb://127.0.0.1:5671/;SharedAccessSignature=${sas}`,
          path: 'site-c',
          services: {},
        },
      },
    }).hybridConnections.get('c')!;
    expect(hc).toMatchObject({ namespace: '127.0.0.1:5671', path: 'site-c', credential: { kind: 'token' } });
  });

  it('accepts a namespace-wide token with an explicit path', () => {
    const hc = ok({
      schemaVersion: 1,
      hybridConnections: {
        d: { namespace: 'contoso.servicebus.windows.net', sasToken: token('http://contoso.servicebus.windows.net/'), path: 'x', services: {} },
      },
    }).hybridConnections.get('d')!;
    expect(hc.path).toBe('x');
  });

  it('reports every schema problem with its path', () => {
    const found = problems({
      schemaVersion: 2,
      extra: true,
      hybridConnections: {
        a: { services: { s: { target: 'x:1', maxConnections: 0, colour: 'red' } }, listeners: 26, muxMaxStreams: -1 },
        'bad name': { connectionString: CS, services: {} },
      },
    });
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '',
        '/schemaVersion',
        '/hybridConnections',
        '/hybridConnections/a',
        '/hybridConnections/a/listeners',
        '/hybridConnections/a/muxMaxStreams',
        '/hybridConnections/a/services/s',
        '/hybridConnections/a/services/s/maxConnections',
      ]),
    );
    expect(found.find((p) => p.path === '')!.message).toContain('unknown property "extra"');
    expect(found.find((p) => p.path === '/hybridConnections/a')!.message).toContain('connectionString');
  });

  it('names connection-string problems with their path and never echoes the key', () => {
    const found = problems({
      schemaVersion: 1,
      hybridConnections: {
        a: { connectionString: `Endpoint=http://x/;SharedAccessKeyName=k;SharedAccessKey=${KEY}`, services: {} },
        b: { connectionString: `Endpoint=sb://x/;SharedAccessKeyName=k`, services: {} },
      },
    });
    expect(found).toEqual([
      { path: '/hybridConnections/a/connectionString', message: expect.stringContaining('sb:// scheme') },
      { path: '/hybridConnections/b/connectionString', message: expect.stringContaining('SharedAccessKey is missing') },
    ]);
    expect(JSON.stringify(found)).not.toContain(KEY);
  });

  it('refuses a connection string without EntityPath when no path is given', () => {
    const noPath = CS.replace(';EntityPath=site-a', '');
    expect(
      problems({ schemaVersion: 1, hybridConnections: { a: { connectionString: noPath, services: {} } } }),
    ).toEqual([{ path: '/hybridConnections/a/path', message: expect.stringContaining('missing hybrid connection path') }]);
    expect(
      ok({ schemaVersion: 1, hybridConnections: { a: { connectionString: noPath, path: 'p', services: {} } } })
        .hybridConnections.get('a')!.path,
    ).toBe('p');
  });

  it('refuses a path or namespace that contradicts the connection string', () => {
    const found = problems({
      schemaVersion: 1,
      hybridConnections: { a: { connectionString: CS, path: 'other', namespace: 'elsewhere.example', services: {} } },
    });
    expect(found).toEqual([
      { path: '/hybridConnections/a/namespace', message: expect.stringContaining('differs from the connection string') },
      { path: '/hybridConnections/a/path', message: expect.stringContaining('differs from the connection string') },
    ]);
  });

  it('refuses expired, malformed and foreign tokens without printing them', () => {
    const ns = 'contoso.servicebus.windows.net';
    const expired = token(`http://${ns}/site-a`, -1000);
    const expiredE = token(`http://${ns}/site-e`, -1000);
    const foreign = token(`http://${ns}/site-z`);
    const otherNamespace = token('http://fabrikam.servicebus.windows.net/site-d');
    const found = problems({
      schemaVersion: 1,
      hybridConnections: {
        a: { namespace: ns, sasToken: expired, services: {} },
        b: { namespace: ns, sasToken: 'SharedAccessSignature sr=x&se=1', path: 'p', services: {} },
        c: { namespace: ns, sasToken: foreign, path: 'site-c', services: {} },
        d: { namespace: ns, sasToken: otherNamespace, services: {} },
        e: { connectionString: `Endpoint=sb://${ns}/;SharedAccessSignature=${expiredE}`, services: {} },
      },
    });
    expect(found).toEqual([
      { path: '/hybridConnections/a/sasToken', message: 'the SAS token expired at 2029-12-31T23:59:59.000Z' },
      { path: '/hybridConnections/b/sasToken', message: expect.stringContaining('token has no "sig"') },
      { path: '/hybridConnections/c/sasToken', message: expect.stringContaining('does not cover') },
      { path: '/hybridConnections/d/sasToken', message: expect.stringContaining('does not cover') },
      { path: '/hybridConnections/e/connectionString', message: expect.stringContaining('expired') },
    ]);
    for (const t of [expired, expiredE, foreign, otherNamespace]) expect(JSON.stringify(found)).not.toContain(t.split('sig=')[1]);
  });

  it('refuses bad targets, a token given twice, and two entries on one hybrid connection', () => {
    const found = problems({
      schemaVersion: 1,
      hybridConnections: {
        a: { connectionString: CS, services: { web: { target: 'web:http' }, ok: { target: 'web:80' } } },
        b: { connectionString: CS.replace('site-a', 'site-b'), sasToken: token('http://x/y'), services: {} },
        c: { connectionString: CS.replace('contoso', 'CONTOSO'), services: {} },
      },
    });
    expect(found).toEqual([
      { path: '/hybridConnections/a/services/web/target', message: expect.stringContaining('port "http"') },
      { path: '/hybridConnections/b/sasToken', message: expect.stringContaining('not both') },
      { path: '/hybridConnections/c', message: expect.stringContaining('same hybrid connection') },
    ]);
  });

  it('reports semantic problems next to schema problems in one round', () => {
    const found = problems({
      schemaVersion: 1,
      hybridConnections: { a: { connectionString: CS, listeners: 0, services: { web: { target: 'nope' } } } },
    });
    expect(found.map((p) => p.path)).toEqual(['/hybridConnections/a/listeners', '/hybridConnections/a/services/web/target']);
  });

  it('refuses documents that are not objects', () => {
    for (const doc of [null, 'x', 3, []]) expect(problems(doc).length).toBeGreaterThan(0);
  });
});

describe('normalizeForwarderConfig with Microsoft Entra ID', () => {
  const NS = 'contoso.servicebus.windows.net';
  const services = { sql: { target: 'db.local:1433' } };
  const doc = (entry: Record<string, unknown>): unknown => ({
    schemaVersion: 1,
    hybridConnections: { siteA: { ...entry, services } },
  });

  it('takes namespace, path and auth {type: entra} (system-assigned or a client id) as the credential', () => {
    const system = ok(doc({ namespace: NS, path: 'site-a', auth: { type: 'entra' } }));
    expect(system.hybridConnections.get('siteA')).toMatchObject({
      namespace: NS,
      path: 'site-a',
      credential: { kind: 'entra' },
    });
    const user = ok(
      doc({ namespace: NS, path: 'site-a', auth: { type: 'entra', clientId: 'c1', tenantId: 't1' } }),
    );
    expect(user.hybridConnections.get('siteA')!.credential).toEqual({
      kind: 'entra',
      clientId: 'c1',
      tenantId: 't1',
    });
  });

  it('refuses auth beside SAS, without a path, or of an unknown type, at the entry', () => {
    const at = (p: Array<{ path: string }>): string[] => [...new Set(p.map((x) => x.path))];
    expect(at(problems(doc({ connectionString: CS, auth: { type: 'entra' } })))).toContain(
      '/hybridConnections/siteA',
    );
    expect(
      problems(doc({ namespace: NS, path: 'site-a', sasToken: token(`http://${NS}/site-a`), auth: { type: 'entra' } })).some(
        (p) => p.message === 'give "auth" (Entra ID) or "sasToken" (SAS), not both',
      ),
    ).toBe(true);
    expect(problems(doc({ namespace: NS, auth: { type: 'entra' } })).length).toBeGreaterThan(0);
    expect(problems(doc({ namespace: NS, path: 'site-a', auth: { type: 'aad' } })).length).toBeGreaterThan(0);
    expect(
      problems(doc({ namespace: NS, path: 'site-a', auth: { type: 'entra', secret: 'x' } })).length,
    ).toBeGreaterThan(0);
  });
});
