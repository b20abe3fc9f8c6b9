import { resolveRelayCredentials, sameRelayCredential } from '../../../../../modules/common/src/config/credentials';
import type { ConfigProblem } from '../../../../../modules/common/src/config/schema-validator';
import { createSasToken } from '../../../../../modules/common/src/hc/sas';

const NOW_MS = Date.UTC(2030, 0, 1);
const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==';
const NS = 'contoso.servicebus.windows.net';
const CS = `Endpoint=sb://${NS}/;SharedAccessKeyName=send;SharedAccessKey=${KEY};EntityPath=site-a`;

function token(resource: string, lifetimeMs = 3_600_000): string {
  return createSasToken({ resource, keyName: 'send', key: KEY, lifetimeMs, nowMs: NOW_MS });
}

function resolve(entry: Record<string, unknown>, onMismatch: 'keep' | 'drop' = 'drop') {
  const problems: ConfigProblem[] = [];
  const resolved = resolveRelayCredentials(entry, NOW_MS, (field) => `/e/${field}`, problems, { onMismatch });
  return { resolved, problems };
}

describe('resolveRelayCredentials', () => {
  it('takes namespace, path and key from a connection string', () => {
    expect(resolve({ connectionString: CS })).toEqual({
      resolved: { namespace: NS, path: 'site-a', credential: { kind: 'key', keyName: 'send', key: KEY } },
      problems: [],
    });
  });

  it("takes the path from the token's entity when namespace + sasToken give none", () => {
    const sas = token(`http://${NS}/site-b`);
    expect(resolve({ namespace: NS, sasToken: sas })).toEqual({
      resolved: { namespace: NS, path: 'site-b', credential: { kind: 'token', token: sas, expiresAtMs: NOW_MS + 3_600_000 } },
      problems: [],
    });
  });

  it('reports a token given twice, an expired token and a token for another entity, each at its field', () => {
    expect(resolve({ connectionString: CS, sasToken: token(`http://${NS}/site-a`) }).problems).toEqual([
      { path: '/e/sasToken', message: 'give the token in "connectionString" or "sasToken", not both' },
    ]);
    const expired = resolve({ namespace: NS, path: 'site-a', sasToken: token(`http://${NS}/site-a`, -1000) });
    expect(expired.problems).toEqual([
      { path: '/e/sasToken', message: `the SAS token expired at ${new Date(NOW_MS - 1000).toISOString()}` },
    ]);
    const foreign = resolve({ namespace: NS, path: 'site-a', sasToken: token(`http://${NS}/site-b`) });
    expect(foreign.problems).toEqual([
      {
        path: '/e/sasToken',
        message: `the SAS token was issued for "http://${NS}/site-b", which does not cover ${NS}/site-a`,
      },
    ]);
  });

  it('asks for a path when neither the entry, the connection string nor the token names one', () => {
    expect(resolve({ namespace: NS, sasToken: token(`http://${NS}/`) }).problems).toEqual([
      { path: '/e/path', message: 'missing hybrid connection path: give "path" or EntityPath in the connection string' },
    ]);
  });

  it('keeps (gateway) or drops (forwarder) a path that disagrees with EntityPath, reporting it either way', () => {
    const mismatch = `path "site-b" differs from the connection string's EntityPath "site-a"`;
    const kept = resolve({ connectionString: CS, path: 'site-b' }, 'keep');
    expect(kept.resolved.path).toBe('site-b');
    expect(kept.problems).toEqual([{ path: '/e/path', message: mismatch }]);
    const dropped = resolve({ connectionString: CS, path: 'site-b' }, 'drop');
    expect(dropped.resolved.path).toBeUndefined();
    expect(dropped.problems).toEqual([{ path: '/e/path', message: mismatch }]);
    expect(resolve({ connectionString: CS, namespace: 'other.example' }, 'keep').resolved.namespace).toBe(NS);
    expect(resolve({ connectionString: CS, namespace: 'other.example' }, 'drop').resolved.namespace).toBeUndefined();
  });
});

describe('sameRelayCredential', () => {
  it('compares keys by name and value, tokens by text, and never a key with a token', () => {
    const key = { kind: 'key', keyName: 'send', key: KEY } as const;
    const sas = { kind: 'token', token: 't', expiresAtMs: 1 } as const;
    expect(sameRelayCredential(key, { ...key })).toBe(true);
    expect(sameRelayCredential(key, { ...key, keyName: 'other' })).toBe(false);
    expect(sameRelayCredential(key, { ...key, key: 'other' })).toBe(false);
    expect(sameRelayCredential(sas, { ...sas, expiresAtMs: 2 })).toBe(true);
    expect(sameRelayCredential(sas, { ...sas, token: 'u' })).toBe(false);
    expect(sameRelayCredential(key, sas)).toBe(false);
  });
});

describe('sameRelayCredential with Entra ID', () => {
  it('is the same identity when client and tenant ids match, and never equal to SAS', () => {
    expect(sameRelayCredential({ kind: 'entra' }, { kind: 'entra' })).toBe(true);
    expect(sameRelayCredential({ kind: 'entra', clientId: 'a' }, { kind: 'entra', clientId: 'a' })).toBe(true);
    expect(sameRelayCredential({ kind: 'entra', clientId: 'a' }, { kind: 'entra', clientId: 'b' })).toBe(false);
    expect(sameRelayCredential({ kind: 'entra' }, { kind: 'key', keyName: 'k', key: KEY })).toBe(false);
  });
});
