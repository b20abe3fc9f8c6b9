// Literal fixtures for the fleet controller's pure core: settings, device and module twins, observed state.
import type { JsonObject } from '../../cloud/src/model/json';
import type { Observed, ObservedDevice, ObservedModule } from '../../cloud/src/model/observed';
import { resolveSettings, type ControllerSettings, type PoolSettings } from '../../cloud/src/settings';

/** A fixed clock for the pure tests: 2025-01-01T00:00:00Z. */
export const NOW_MS = Date.UTC(2025, 0, 1);
/** The namespace host the fixtures use. */
export const NS = 'contoso.servicebus.windows.net';
/** One hour, the lifetime the fixtures use. */
export const HOUR_MS = 3_600_000;

/** Settings with one pool `default` of `ports` ports from 20000 (plus any extra pools). */
export function testSettings(
  overrides: Partial<Omit<ControllerSettings, 'pools'>> = {},
  ports = 10,
  extraPools: PoolSettings[] = [],
): ControllerSettings {
  return resolveSettings({
    pools: [
      {
        name: 'default',
        firstPort: 20000,
        lastPort: 20000 + ports - 1,
        allow: ['0.0.0.0/0'],
        publicHost: 'gw.example.com',
      },
      ...extraPools,
    ],
    tokenLifetimeMs: HOUR_MS,
    ...overrides,
  });
}

/** A location device twin with `services` (name → target). */
export function locationDevice(
  deviceId: string,
  services: Record<string, string | JsonObject>,
  relay: JsonObject = {},
  extraTags: JsonObject = {},
  etag = 'AAAAAAAAAAE=',
): ObservedDevice {
  const svc: JsonObject = {};
  for (const [name, s] of Object.entries(services)) svc[name] = typeof s === 'string' ? { target: s } : s;
  return { deviceId, etag, tags: { relay: { role: 'location', services: svc, ...relay }, ...extraTags } };
}

/** A gateway device twin in `pool`. */
export function gatewayDevice(deviceId: string, pool = 'default'): ObservedDevice {
  return { deviceId, etag: 'AAAAAAAAAAE=', tags: { relay: { role: 'gateway', pool } } };
}

/** A module twin with desired properties. */
export function moduleTwin(
  deviceId: string,
  moduleId: string,
  desired: JsonObject = {},
  etag = 'AAAAAAAAAAE=',
): ObservedModule {
  return { deviceId, moduleId, etag, desired };
}

/** Observed state with defaults for everything not given. */
export function observedOf(partial: Partial<Observed>): Observed {
  return {
    nowMs: NOW_MS,
    namespaceHost: NS,
    devices: [],
    modules: [],
    hybridConnections: [],
    keys: new Map(),
    missingRules: new Set(),
    failures: new Map(),
    ...partial,
  };
}
