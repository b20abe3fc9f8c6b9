import { createSasToken } from '../../../../../modules/common/src/hc/sas';
import { normalizeGatewayConfig } from '../../../../../modules/relay-gateway/src/config/normalize';
import schema from '../../../../../modules/relay-gateway/src/config/schema.json';
import type { GatewayConfig } from '../../../../../modules/relay-gateway/src/config/types';

const NOW_MS = Date.UTC(2030, 0, 1);
const CS = 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0;EntityPath=site-a';

function token(resource: string, lifetimeMs = 3_600_000): string {
  return createSasToken({ resource, keyName: 'send', key: 'k', lifetimeMs, nowMs: NOW_MS });
}

function doc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    hybridConnections: { 'site-a': { connectionString: CS } },
    routes: {
      sql: { port: 14330, hybridConnection: 'site-a', service: 'sql', allow: ['10.0.0.0/8'] },
    },
    ...overrides,
  };
}

function ok(document: unknown): GatewayConfig {
  const result = normalizeGatewayConfig(document, { nowMs: NOW_MS });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

function problems(document: unknown): Array<{ path: string; message: string }> {
  const result = normalizeGatewayConfig(document, { nowMs: NOW_MS });
  if (result.ok) throw new Error('expected problems');
  return [...result.problems];
}

describe('normalizeGatewayConfig', () => {
  it('applies the defaults from the schema', () => {
    const config = ok(doc());
    expect(config.drainTimeoutMs).toBe(schema.properties.drainTimeoutMs.default);
    expect(config.maxConnections).toBe(5000);
    const route = config.routes.get('sql')!;
    expect({ ...route, allowList: undefined }).toEqual({
      id: 'sql',
      port: 14330,
      bindAddress: '0.0.0.0',
      hybridConnection: 'site-a',
      service: 'sql',
      allow: ['10.0.0.0/8'],
      allowList: undefined,
      maxConnections: 1000,
      connectTimeoutMs: 15000,
      idleTimeoutMs: 0,
      enabled: true,
      warmConnections: 2,
      warmMaxIdleMs: 50_000,
      multiplex: true,
      muxConnections: 4,
    });
    expect(route.allowList.allows('10.1.2.3')).toBe(true);
    expect(config.hybridConnections.get('site-a')).toEqual({
      name: 'site-a',
      namespace: 'contoso.servicebus.windows.net',
      path: 'site-a',
      credential: { kind: 'key', keyName: 'send', key: 'c2VjcmV0' },
    });
  });

  it('accepts an empty gateway and a twin $version', () => {
    const config = ok({ schemaVersion: 1, $version: 7 });
    expect(config.routes.size).toBe(0);
    expect(config.hybridConnections.size).toBe(0);
  });

  it('takes a namespace and a pre-issued token, the path from the token', () => {
    const sas = token('http://ns.example:9443/site-b');
    const config = ok(
      doc({
        hybridConnections: { b: { namespace: 'ns.example:9443', sasToken: sas } },
        routes: { web: { port: 8080, hybridConnection: 'b', service: 'web', allow: ['::/0'] } },
      }),
    );
    expect(config.hybridConnections.get('b')).toEqual({
      name: 'b',
      namespace: 'ns.example:9443',
      path: 'site-b',
      credential: { kind: 'token', token: sas, expiresAtMs: NOW_MS + 3_600_000 },
    });
  });

  it('reports every schema problem with its path', () => {
    const found = problems({
      schemaVersion: 2,
      extra: true,
      routes: { sql: { port: 70000, hybridConnection: 'x', allow: [] } },
    });
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['', '/schemaVersion', '/routes/sql', '/routes/sql/port', '/routes/sql/allow']),
    );
    expect(found.find((p) => p.path === '' && p.message.includes('"extra"'))).toBeDefined();
    expect(found.find((p) => p.path === '/routes/sql' && p.message.includes('"service"'))).toBeDefined();
  });

  it('refuses a route naming an unknown hybrid connection, and lists the known ones', () => {
    const found = problems(
      doc({ routes: { sql: { port: 1, hybridConnection: 'site-b', service: 's', allow: ['0.0.0.0/0'] } } }),
    );
    expect(found).toEqual([
      { path: '/routes/sql/hybridConnection', message: 'unknown hybrid connection "site-b" (known: "site-a")' },
    ]);
  });

  it('reports each bad CIDR entry by index', () => {
    const found = problems(
      doc({
        routes: { sql: { port: 1, hybridConnection: 'site-a', service: 's', allow: ['10.0.0.0/8', '10.0.0.1/8', 'x'] } },
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['/routes/sql/allow/1', '/routes/sql/allow/2']);
    expect(found[0]!.message).toContain('did you mean 10.0.0.0/8?');
  });

  it('refuses a bind address that is not an IP literal', () => {
    const found = problems(
      doc({
        routes: {
          sql: { port: 1, bindAddress: 'localhost', hybridConnection: 'site-a', service: 's', allow: ['::/0'] },
        },
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['/routes/sql/bindAddress']);
  });

  it('names both routes of a port conflict, wildcard bindings included', () => {
    const route = (port: number, bindAddress?: string, enabled?: boolean): Record<string, unknown> => ({
      port,
      hybridConnection: 'site-a',
      service: 's',
      allow: ['0.0.0.0/0'],
      ...(bindAddress !== undefined && { bindAddress }),
      ...(enabled !== undefined && { enabled }),
    });
    const found = problems(
      doc({
        routes: {
          a: route(8080),
          b: route(8080, '127.0.0.1'),
          c: route(9090, '::1'),
          d: route(9090, '::'),
          e: route(7070, '127.0.0.1'),
          f: route(7070, '127.0.0.2'),
          g: route(8080, '10.0.0.1', false),
          h: route(0),
          i: route(0),
        },
      }),
    );
    expect(found).toEqual([
      {
        path: '/routes/b/port',
        message: 'port conflict: routes "a" (0.0.0.0:8080) and "b" (127.0.0.1:8080) cannot both listen',
      },
      {
        path: '/routes/d/port',
        message: 'port conflict: routes "c" (::1:9090) and "d" (:::9090) cannot both listen',
      },
    ]);
  });

  it('refuses a connection string without EntityPath and no path, without echoing the key', () => {
    const found = problems(
      doc({
        hybridConnections: {
          'site-a': { connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=send;SharedAccessKey=topsecret' },
        },
      }),
    );
    expect(found).toEqual([
      {
        path: '/hybridConnections/site-a/path',
        message: 'missing hybrid connection path: give "path" or EntityPath in the connection string',
      },
    ]);
    expect(JSON.stringify(found)).not.toContain('topsecret');
  });

  it('takes the path from "path" when the connection string has no EntityPath', () => {
    const config = ok(
      doc({
        hybridConnections: {
          'site-a': { connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=send;SharedAccessKey=k', path: 'hc1' },
        },
      }),
    );
    expect(config.hybridConnections.get('site-a')!.path).toBe('hc1');
  });

  it('reports credential problems a schema cannot see', () => {
    const found = problems(
      doc({
        hybridConnections: {
          'site-a': { connectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=send' },
          other: { connectionString: CS, path: 'elsewhere' },
          expired: { namespace: 'ns', sasToken: token('http://ns/hc', -1000) },
          wrong: { namespace: 'ns', sasToken: token('http://ns/hc'), path: 'other' },
          garbled: { namespace: 'ns', sasToken: 'SharedAccessSignature sr=x' },
        },
      }),
    );
    expect(found.map((p) => p.path)).toEqual([
      '/hybridConnections/expired/sasToken',
      '/hybridConnections/garbled/sasToken',
      '/hybridConnections/other/path',
      '/hybridConnections/site-a/connectionString',
      '/hybridConnections/wrong/sasToken',
    ]);
    expect(found[0]!.message).toContain('expired');
    expect(found[3]!.message).toContain('SharedAccessKey is missing');
    expect(found[4]!.message).toContain('does not cover ns/other');
  });

  it('collects schema and semantic problems in one pass', () => {
    const found = problems(
      doc({
        logLevel: 'loud',
        routes: { sql: { port: 1, hybridConnection: 'nope', service: 's', allow: ['300.0.0.0/8'] } },
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['/logLevel', '/routes/sql/allow/0', '/routes/sql/hybridConnection']);
  });
});
