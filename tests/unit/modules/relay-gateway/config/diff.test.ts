import {
  EMPTY_GATEWAY_CONFIG,
  diffGatewayConfig,
  isEmptyDiff,
} from '../../../../../modules/relay-gateway/src/config/diff';
import { normalizeGatewayConfig } from '../../../../../modules/relay-gateway/src/config/normalize';
import type { GatewayConfig } from '../../../../../modules/relay-gateway/src/config/types';

const cs = (key: string, path = 'site-a'): string =>
  `Endpoint=sb://ns.example/;SharedAccessKeyName=send;SharedAccessKey=${key};EntityPath=${path}`;

function config(routes: Record<string, unknown>, hcs: Record<string, unknown> = {}, extra = {}): GatewayConfig {
  const result = normalizeGatewayConfig({
    schemaVersion: 1,
    hybridConnections: { a: { connectionString: cs('k1') }, b: { connectionString: cs('k1', 'site-b') }, ...hcs },
    routes,
    ...extra,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const route = (port: number, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  port,
  hybridConnection: 'a',
  service: 'svc',
  allow: ['0.0.0.0/0'],
  ...more,
});

describe('diffGatewayConfig', () => {
  it('sees nothing to do between equal documents', () => {
    const diff = diffGatewayConfig(config({ r: route(1) }), config({ r: route(1) }));
    expect(diff.routesUnchanged).toEqual(['r']);
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it('sorts routes into added, removed, changed and unchanged', () => {
    const before = config({ keep: route(1), gone: route(2), move: route(3), tighten: route(4) });
    const after = config({
      keep: route(1),
      move: route(30),
      tighten: route(4, { allow: ['10.0.0.0/8'], maxConnections: 5, hybridConnection: 'b' }),
      fresh: route(5),
    });
    const diff = diffGatewayConfig(before, after);
    expect(diff.routesAdded).toEqual(['fresh']);
    expect(diff.routesRemoved).toEqual(['gone']);
    expect(diff.routesUnchanged).toEqual(['keep']);
    expect(diff.routesChanged).toEqual([
      { id: 'move', fields: ['port'], rebind: true },
      { id: 'tighten', fields: ['hybridConnection', 'allow', 'maxConnections'], rebind: false },
    ]);
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('marks a bind address change as a rebind and enabled as a plain change', () => {
    const diff = diffGatewayConfig(
      config({ r: route(1), s: route(2) }),
      config({ r: route(1, { bindAddress: '127.0.0.1' }), s: route(2, { enabled: false }) }),
    );
    expect(diff.routesChanged).toEqual([
      { id: 'r', fields: ['bindAddress'], rebind: true },
      { id: 's', fields: ['enabled'], rebind: false },
    ]);
  });

  it('reports credential changes apart from route changes', () => {
    const before = config({ r: route(1) });
    const after = config({ r: route(1) }, { a: { connectionString: cs('k2') } });
    const diff = diffGatewayConfig(before, after);
    expect(diff.credentialsChanged).toEqual(['a']);
    expect(diff.routesUnchanged).toEqual(['r']);
    expect(diff.routesChanged).toEqual([]);
  });

  it('reports hybrid connections added and removed, and global settings', () => {
    const before = config({}, { c: { connectionString: cs('k', 'c') } });
    const after = config({}, { d: { connectionString: cs('k', 'd') } }, {
      drainTimeoutMs: 5,
      limits: { maxConnections: 9 },
      logLevel: 'debug',
    });
    const diff = diffGatewayConfig(before, after);
    expect(diff.hybridConnectionsAdded).toEqual(['d']);
    expect(diff.hybridConnectionsRemoved).toEqual(['c']);
    expect([diff.drainTimeoutChanged, diff.maxConnectionsChanged, diff.logLevelChanged]).toEqual([true, true, true]);
  });

  it('treats everything as added when starting from the empty configuration', () => {
    const diff = diffGatewayConfig(EMPTY_GATEWAY_CONFIG, config({ r: route(1) }));
    expect(diff.routesAdded).toEqual(['r']);
    expect(diff.hybridConnectionsAdded).toEqual(['a', 'b']);
  });
});
