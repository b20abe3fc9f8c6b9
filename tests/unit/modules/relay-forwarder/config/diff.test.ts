import { createSasToken } from '../../../../../modules/common/src/hc/sas';
import {
  EMPTY_FORWARDER_CONFIG,
  diffForwarderConfig,
  isEmptyDiff,
} from '../../../../../modules/relay-forwarder/src/config/diff';
import { normalizeForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/normalize';
import type { ForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/types';

const NOW_MS = Date.UTC(2030, 0, 1);
const NS = 'contoso.servicebus.windows.net';
const KEY = 'a2V5LW9uZQ==';
const cs = (path: string, key = KEY): string =>
  `Endpoint=sb://${NS}/;SharedAccessKeyName=listen;SharedAccessKey=${key};EntityPath=${path}`;
const token = (path: string, lifetimeMs: number): string =>
  createSasToken({ resource: `http://${NS}/${path}`, keyName: 'listen', key: KEY, lifetimeMs, nowMs: NOW_MS });

function config(hybridConnections: Record<string, unknown>, extra: Record<string, unknown> = {}): ForwarderConfig {
  const result = normalizeForwarderConfig({ schemaVersion: 1, hybridConnections, ...extra }, { nowMs: NOW_MS });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

const base = {
  a: { connectionString: cs('site-a'), services: { web: { target: 'web:80' }, db: { target: 'db:1433' } } },
  b: { namespace: NS, sasToken: token('site-b', 60_000), services: { ssh: { target: 'h:22' } } },
};

describe('diffForwarderConfig', () => {
  it('finds nothing between equal documents', () => {
    const diff = diffForwarderConfig(config(base), config(structuredClone(base)));
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.unchanged).toEqual(['a', 'b']);
  });

  it('lists every hybrid connection as added when starting from nothing, and removed when going to nothing', () => {
    const up = diffForwarderConfig(EMPTY_FORWARDER_CONFIG, config(base));
    expect(up.added.map((hc) => hc.name)).toEqual(['a', 'b']);
    const down = diffForwarderConfig(config(base), config({}));
    expect(down.removed.map((hc) => hc.name)).toEqual(['a', 'b']);
    expect(down.changed).toEqual([]);
  });

  it('tells service additions, removals, changes and disabling apart, leaving other hybrid connections unchanged', () => {
    const next = structuredClone(base);
    (next.a as { services: Record<string, unknown> }).services = {
      web: { target: 'web2:80' },
      db: { target: 'db:1433', enabled: false },
      api: { target: 'api:443' },
    };
    const diff = diffForwarderConfig(config(base), config(next));
    expect(diff.unchanged).toEqual(['b']);
    expect(diff.changed).toHaveLength(1);
    const change = diff.changed[0];
    expect(change).toMatchObject({
      name: 'a',
      endpointChanged: false,
      credentialChanged: false,
      listenersChanged: false,
      services: { added: ['api'], removed: [], changed: ['web', 'db'], disabled: ['db'] },
    });
    const removal = diffForwarderConfig(config(next), config(base)).changed[0].services;
    expect(removal).toEqual({ added: [], removed: ['api'], changed: ['web', 'db'], disabled: [] });
  });

  it('treats a limit or timeout change as a service change', () => {
    for (const setting of [{ maxConnections: 3 }, { connectTimeoutMs: 500 }, { idleTimeoutMs: 1000 }]) {
      const next = structuredClone(base);
      Object.assign(next.b.services.ssh, setting);
      expect(diffForwarderConfig(config(base), config(next)).changed[0].services.changed).toEqual(['ssh']);
    }
  });

  it('sees a renewed token as a credential change on the same endpoint', () => {
    const next = structuredClone(base);
    next.b.sasToken = token('site-b', 120_000);
    const change = diffForwarderConfig(config(base), config(next)).changed[0];
    expect(change).toMatchObject({ name: 'b', endpointChanged: false, credentialChanged: true });
    expect(change.services).toEqual({ added: [], removed: [], changed: [], disabled: [] });
  });

  it('sees a rotated key as a credential change, and a new EntityPath as an endpoint change', () => {
    const rotated = structuredClone(base);
    rotated.a.connectionString = cs('site-a', 'a2V5LXR3bw==');
    expect(diffForwarderConfig(config(base), config(rotated)).changed[0]).toMatchObject({
      endpointChanged: false,
      credentialChanged: true,
    });
    const moved = structuredClone(base);
    moved.a.connectionString = cs('site-a2');
    expect(diffForwarderConfig(config(base), config(moved)).changed[0]).toMatchObject({
      endpointChanged: true,
      credentialChanged: false,
    });
  });

  it('sees a listener count change', () => {
    const next = structuredClone(base) as typeof base & { a: { listeners?: number } };
    next.a.listeners = 5;
    expect(diffForwarderConfig(config(base), config(next)).changed[0]).toMatchObject({
      listenersChanged: true,
      before: { listeners: 2 },
      after: { listeners: 5 },
    });
  });

  it('sees a multiplexing stream bound change, and an absent bound as the default', () => {
    const next = structuredClone(base) as typeof base & { a: { muxMaxStreams?: number } };
    next.a.muxMaxStreams = 16;
    const change = diffForwarderConfig(config(base), config(next)).changed[0];
    expect(change).toMatchObject({ muxMaxStreamsChanged: true, listenersChanged: false, after: { muxMaxStreams: 16 } });
    expect(change.before.muxMaxStreams).toBeUndefined();
    expect(diffForwarderConfig(config(next), config(next)).changed).toHaveLength(0);
  });

  it('sees top-level setting changes', () => {
    const diff = diffForwarderConfig(config(base), config(base, { logLevel: 'debug', drainTimeoutMs: 10 }));
    expect(diff).toMatchObject({ logLevelChanged: true, drainTimeoutChanged: true, changed: [] });
    expect(isEmptyDiff(diff)).toBe(false);
  });
});
