// Names instead of ports: services a location exposes by name get `{service}.{location}.{zone}` on the pool's
// shared SNI port, written as one SNI route into every gateway twin of the pool, and reported in the status tag.
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import { pickSniTarget } from '../../../../modules/relay-gateway/src/sni/sni-routing';
import { parseControllerOptions } from '../../../../cloud/src/cli-options';
import { documentBytes } from '../../../../cloud/src/model/documents';
import { applyMergePatch, type JsonObject } from '../../../../cloud/src/model/json';
import { keyRef, type Observed } from '../../../../cloud/src/model/observed';
import type { Action } from '../../../../cloud/src/plan/actions';
import { planReconcile } from '../../../../cloud/src/plan/plan';
import { resolveSettings, type PoolSettings } from '../../../../cloud/src/settings';
import {
  gatewayDevice,
  HOUR_MS,
  locationDevice,
  moduleTwin,
  NOW_MS,
  observedOf,
} from '../../../support/controller-fixtures';

const ZONE = 'relay.example.com';
const POOL: PoolSettings = {
  name: 'default',
  firstPort: 20000,
  lastPort: 20009,
  allow: ['0.0.0.0/0'],
  sni: { port: 443, zone: ZONE },
};
const settingsWith = (pool: PoolSettings = POOL, extra: object = {}) =>
  resolveSettings({ pools: [pool], tokenLifetimeMs: HOUR_MS, ...extra });

const META = (loc: string) =>
  JSON.stringify({
    managedBy: 'hybrid-relay-fleet/fleet-controller',
    controller: 'default',
    location: loc,
    deviceId: loc,
  });

/** Locations whose hybrid connections and keys exist, two gateways, empty module twins. */
function fleet(
  locations: Record<string, Record<string, string | JsonObject>>,
  gatewayDesired: JsonObject = {},
) {
  const ids = Object.keys(locations);
  const keys = new Map<string, string>();
  for (const id of ids) {
    keys.set(keyRef(`hrf-${id}`, 'listen'), `${id}-listen-key`);
    keys.set(keyRef(`hrf-${id}`, 'send'), `${id}-send-key`);
  }
  return observedOf({
    devices: [
      ...ids.map((id) => locationDevice(id, locations[id]!)),
      gatewayDevice('gw-1'),
      gatewayDevice('gw-2'),
    ],
    modules: [
      ...ids.map((id) => moduleTwin(id, 'relay-forwarder')),
      moduleTwin('gw-1', 'relay-gateway', gatewayDesired),
      moduleTwin('gw-2', 'relay-gateway', gatewayDesired),
    ],
    hybridConnections: ids.map((id) => ({ name: `hrf-${id}`, userMetadata: META(id) })),
    keys,
  });
}

// What IoT Hub would hold after the plan's twin writes.
function apply(observed: Observed, actions: readonly Action[]): Observed {
  let { devices, modules } = observed;
  for (const a of actions) {
    if (a.kind === 'writeForwarderTwin' || a.kind === 'writeGatewayTwin')
      modules = modules.map((m) =>
        m.deviceId === a.deviceId && m.moduleId === a.moduleId
          ? { ...m, desired: applyMergePatch(m.desired, a.patch) }
          : m,
      );
    else if (a.kind === 'writeLocationStatus')
      devices = devices.map((d) =>
        d.deviceId === a.deviceId ? { ...d, tags: applyMergePatch(d.tags, a.patch) } : d,
      );
  }
  return { ...observed, devices, modules };
}

/** Plans until done; returns the final observed state and the last plan. */
function converge(observed: Observed, settings = settingsWith()) {
  let state = observed;
  for (let pass = 0; pass < 5; pass++) {
    const plan = planReconcile(state, settings);
    if (plan.stage === 'done') return { state, plan };
    expect(plan.stage).toBe('twins');
    state = apply(state, plan.actions);
  }
  throw new Error('did not converge');
}

/** Keys IoT Hub refuses in a twin ('.', '$', spaces, control characters), with their paths. */
function keysTwinsRefuse(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/[.$ ]/.test(k) || [...k].some((c) => c.charCodeAt(0) < 0x20) ? [`${path}/${k}`] : []),
    ...keysTwinsRefuse(v, `${path}/${k}`),
  ]);
}

const gatewayDoc = (state: Observed, deviceId = 'gw-1') =>
  state.modules.find((m) => m.deviceId === deviceId && m.moduleId === 'relay-gateway')!.desired;
const routesOf = (doc: JsonObject) => doc.routes as Record<string, JsonObject>;
const statusOf = (state: Observed, deviceId: string) =>
  state.devices.find((d) => d.deviceId === deviceId)!.tags.relayStatus as JsonObject;

describe('SNI names from the controller', () => {
  it('names services exposed by name, keeps ports for the others, and writes one SNI route the gateway accepts', () => {
    const { state } = converge(
      fleet({
        berlin: {
          web: { target: '10.0.0.7:443', expose: 'name' },
          api: { target: '10.0.0.8:8443', expose: 'both' },
          sql: '10.0.0.5:1433',
        },
        paris: { web: { target: '10.1.0.7:443', expose: 'name' } },
      }),
    );
    const doc = gatewayDoc(state);
    expect(gatewayDoc(state, 'gw-2')).toEqual(doc);
    const routes = routesOf(doc);
    // Only port-exposed services hold ports; the name-only ones hold none.
    expect(Object.keys(routes).sort()).toEqual(['berlin_api', 'berlin_sql', 'hrf-sni']);
    expect(routes['hrf-sni']).toEqual({
      port: 443,
      hybridConnection: 'hrf-berlin',
      service: 'api',
      allow: ['0.0.0.0/0'],
      // What three port routes would have had together (1000 each, the gateway's default).
      maxConnections: 3000,
      // The twin-safe form: IoT Hub refuses '.' in twin keys, so the names are values.
      sni: {
        hosts: {
          berlin_api: {
            name: 'api.berlin.relay.example.com',
            hybridConnection: 'hrf-berlin',
            service: 'api',
          },
          berlin_web: {
            name: 'web.berlin.relay.example.com',
            hybridConnection: 'hrf-berlin',
            service: 'web',
          },
          paris_web: { name: 'web.paris.relay.example.com', hybridConnection: 'hrf-paris', service: 'web' },
        },
        unknownName: 'refuse',
      },
    });
    // A location reached only by name still gets its Send credential entry.
    expect(Object.keys(doc.hybridConnections as JsonObject).sort()).toEqual(['hrf-berlin', 'hrf-paris']);
    expect(keysTwinsRefuse(doc)).toEqual([]);
    const normalized = normalizeGatewayConfig(doc, { nowMs: NOW_MS });
    if (!normalized.ok) throw new Error(JSON.stringify(normalized.problems));
    const sni = normalized.config.routes.get('hrf-sni')!.sni!;
    expect(pickSniTarget(sni, 'web.paris.relay.example.com')).toEqual({
      hybridConnection: 'hrf-paris',
      service: 'web',
    });
    expect(pickSniTarget(sni, 'sql.berlin.relay.example.com')).toBeUndefined();

    expect(statusOf(state, 'berlin')).toEqual({
      location: 'berlin',
      pool: 'default',
      hybridConnection: 'hrf-berlin',
      ports: { api: 20000, sql: 20001 },
      names: { api: 'api.berlin.relay.example.com', web: 'web.berlin.relay.example.com' },
      sniPort: 443,
      state: 'ok',
    });
    expect(statusOf(state, 'paris')).toMatchObject({
      ports: {},
      names: { web: 'web.paris.relay.example.com' },
      state: 'ok',
    });
  });

  it('frees a port when a service moves to name only, and removes the SNI route with the last name', () => {
    const first = converge(fleet({ berlin: { web: '10.0.0.7:443', sql: '10.0.0.5:1433' } })).state;
    expect(statusOf(first, 'berlin').ports).toEqual({ sql: 20000, web: 20001 });

    const retag = (state: Observed, web: JsonObject): Observed => ({
      ...state,
      devices: state.devices.map((d) =>
        d.deviceId === 'berlin'
          ? {
              ...d,
              tags: {
                ...d.tags,
                relay: { role: 'location', services: { web, sql: { target: '10.0.0.5:1433' } } },
              },
            }
          : d,
      ),
    });
    const named = converge(retag(first, { target: '10.0.0.7:443', expose: 'name' })).state;
    expect(Object.keys(routesOf(gatewayDoc(named))).sort()).toEqual(['berlin_sql', 'hrf-sni']);
    expect(statusOf(named, 'berlin')).toMatchObject({
      ports: { sql: 20000 },
      names: { web: expect.any(String) },
    });

    const back = converge(retag(named, { target: '10.0.0.7:443' })).state;
    expect(Object.keys(routesOf(gatewayDoc(back))).sort()).toEqual(['berlin_sql', 'berlin_web']);
    expect(statusOf(back, 'berlin').names).toBeUndefined();
    expect(normalizeGatewayConfig(gatewayDoc(back), { nowMs: NOW_MS }).ok).toBe(true);
  });

  it('refuses names that are not DNS labels, a per-service allow-list, and a pool without sni, each by its code', () => {
    const { state } = converge(
      fleet({
        berlin: {
          Web_1: { target: '10.0.0.7:443', expose: 'name' },
          fenced: { target: '10.0.0.8:443', expose: 'both', allow: ['203.0.113.0/24'] },
          ok: { target: '10.0.0.9:443', expose: 'name' },
        },
      }),
    );
    const status = statusOf(state, 'berlin');
    expect(status.state).toBe('error');
    expect(status.names).toEqual({ ok: 'ok.berlin.relay.example.com' });
    // The fenced service keeps its port with its own allow-list; only its name is refused.
    expect(status.ports).toEqual({ fenced: 20000 });
    const problems = status.problems as Record<string, string>;
    expect(problems.INVALID_SNI_NAME).toMatch(/^Web_1: service name "Web_1" is not a DNS label/);
    expect(problems.SNI_ALLOW_CONFLICT).toMatch(/^fenced: .*remove its own allow or expose it by port only/);
    expect(Object.keys(problems).sort()).toEqual(['INVALID_SNI_NAME', 'SNI_ALLOW_CONFLICT']);

    const noSni = converge(
      fleet({ berlin: { web: { target: '10.0.0.7:443', expose: 'name' } } }),
      settingsWith({ ...POOL, sni: undefined }),
    ).state;
    expect(statusOf(noSni, 'berlin').problems).toEqual({
      SNI_NOT_CONFIGURED:
        'pool "default" has no sni setting (port and zone), so web cannot be reached by name',
    });
    expect(routesOf(gatewayDoc(noSni))).toEqual({});
  });

  it('refuses a name longer than a DNS name may be', () => {
    const longZone = `${'z'.repeat(60)}.${'y'.repeat(60)}.${'x'.repeat(60)}.example.com`;
    const settings = settingsWith({ ...POOL, sni: { port: 443, zone: longZone } });
    const service = 's'.repeat(60); // 60 + 'berlin' + 194 + 2 dots = 262
    const { state } = converge(
      fleet({ berlin: { [service]: { target: '10.0.0.7:443', expose: 'name' } } }),
      settings,
    );
    expect((statusOf(state, 'berlin').problems as JsonObject).INVALID_SNI_NAME).toMatch(
      /would be 262 characters, more than a DNS name may have \(253\)/,
    );
  });

  it('assigns no names while a hand-made route holds the SNI port (the gateway would refuse both)', () => {
    const handMade = {
      routes: { legacy: { port: 443, hybridConnection: 'other', service: 'x', allow: ['0.0.0.0/0'] } },
    };
    const { state } = converge(
      fleet({ berlin: { web: { target: '10.0.0.7:443', expose: 'name' } } }, handMade),
    );
    expect((statusOf(state, 'berlin').problems as JsonObject).SNI_PORT_TAKEN).toMatch(/SNI port 443/);
    expect(Object.keys(routesOf(gatewayDoc(state)))).toEqual(['legacy']);
  });

  it('binds the route on the port and reports the public port clients dial (a load balancer maps one to the other)', () => {
    const settings = settingsWith({ ...POOL, sni: { port: 8443, publicPort: 443, zone: ZONE } });
    const { state } = converge(
      fleet({ berlin: { web: { target: '10.0.0.7:443', expose: 'name' } } }),
      settings,
    );
    expect(routesOf(gatewayDoc(state))['hrf-sni']!.port).toBe(8443);
    expect(statusOf(state, 'berlin')).toMatchObject({ names: { web: `web.berlin.${ZONE}` }, sniPort: 443 });
  });

  it('refuses a bad expose value as an invalid service', () => {
    const { state } = converge(fleet({ berlin: { web: { target: '10.0.0.7:443', expose: 'dns' } } }));
    expect((statusOf(state, 'berlin').problems as JsonObject).INVALID_SERVICE).toBe(
      'web: expose must be "port", "name" or "both", not "dns"',
    );
  });

  it('counts the names in the gateway twin budget: admitted locations always fit', () => {
    const locations: Record<string, Record<string, JsonObject>> = {};
    for (let i = 0; i < 30; i++) {
      const services: Record<string, JsonObject> = {};
      for (let s = 0; s < 4; s++) services[`service-${s}`] = { target: `10.0.${i}.${s}:443`, expose: 'name' };
      locations[`site-${String(i).padStart(2, '0')}`] = services;
    }
    const maxBytes = 8 * 1024;
    const settings = settingsWith({ ...POOL, lastPort: 20099 }, { gatewayTwinMaxBytes: maxBytes });
    const { state, plan } = converge(fleet(locations), settings);
    const full = [...plan.outcomes.values()].filter((o) =>
      o.problems.some((p) => p.code === 'GATEWAY_TWIN_FULL'),
    );
    expect(full.length).toBeGreaterThan(0);
    expect(full.length).toBeLessThan(30);
    expect(documentBytes(gatewayDoc(state))).toBeLessThanOrEqual(maxBytes);
    const names = Object.keys(
      (routesOf(gatewayDoc(state))['hrf-sni']!.sni as JsonObject).hosts as JsonObject,
    );
    expect(names).toHaveLength((30 - full.length) * 4);
  });
});

describe('SNI pool settings', () => {
  const refused =
    (sni: unknown, extra: Partial<PoolSettings> = {}) =>
    () =>
      resolveSettings({ pools: [{ ...POOL, ...extra, sni: sni as PoolSettings['sni'] }] });

  it('accepts a port outside the range and a lower-case zone', () => {
    expect(settingsWith().pools.get('default')!.sni).toEqual({ port: 443, zone: ZONE });
  });

  it.each([
    [{ port: 20005, zone: ZONE }, "sni.port 20005 lies in the pool's port range 20000-20009"],
    [{ port: 0, zone: ZONE }, 'sni.port must be an integer 1-65535'],
    [{ port: 8443, publicPort: 70000, zone: ZONE }, 'sni.publicPort must be an integer 1-65535'],
    [
      { port: 443, zone: 'Relay.Example.com' },
      'sni.zone "Relay.Example.com" must be a DNS name of lower-case labels',
    ],
    [{ port: 443, zone: 'relay.example.com.' }, 'sni.zone is written without the trailing dot'],
    [{ port: 443, zone: 'bad_label.example.com' }, 'must be a DNS name of lower-case labels'],
    [{ port: 443, zone: '-x.example.com' }, 'must be a DNS name of lower-case labels'],
  ])('refuses %j', (sni, message) => {
    expect(refused(sni)).toThrow(message);
  });

  it('refuses names on a pool of several gateway instances (one instance binds the shared port)', () => {
    expect(refused({ port: 443, zone: ZONE }, { gatewayModules: 2 })).toThrow('sni needs gatewayModules 1');
    expect(settingsWith().pools.get('default')!.gatewayModules ?? 1).toBe(1);
  });

  it('refuses two pools whose zones are equal or nested', () => {
    const other = (zone: string): PoolSettings => ({
      ...POOL,
      name: 'edge',
      firstPort: 30000,
      lastPort: 30009,
      sni: { port: 443, zone },
    });
    expect(() => resolveSettings({ pools: [POOL, other(ZONE)] })).toThrow(/overlapping SNI zones/);
    expect(() => resolveSettings({ pools: [POOL, other(`eu.${ZONE}`)] })).toThrow(/overlapping SNI zones/);
    expect(resolveSettings({ pools: [POOL, other('relay.example.net')] }).pools.size).toBe(2);
  });

  it('reads sni from --pools and from GATEWAY_SNI_PORT/GATEWAY_SNI_ZONE, and refuses other shapes', () => {
    const env = {
      IOTHUB_CONNECTION_STRING: 'HostName=hub.azure-devices.net;SharedAccessKeyName=o;SharedAccessKey=a2V5',
      AZURE_SUBSCRIPTION_ID: 's',
      RELAY_RESOURCE_GROUP: 'rg',
      RELAY_NAMESPACE: 'ns',
    };
    const pools = (json: string) => parseControllerOptions(['--pools', json], env);
    const ok = pools(
      '[{"name":"p","ports":"1000-1001","allow":["0.0.0.0/0"],"sni":{"port":443,"zone":"r.example.com"}}]',
    );
    expect(ok.ok && ok.options.pools[0]!.sni).toEqual({ port: 443, zone: 'r.example.com' });
    const bad = pools('[{"name":"p","ports":"1000-1001","allow":["0.0.0.0/0"],"sni":{"port":"443"}}]');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems).toEqual([
      '--pools[0].sni must be {"port": 1-65535, "publicPort"?: 1-65535, "zone": "relay.example.com"} and nothing else',
    ]);
    const fromEnv = parseControllerOptions([], {
      ...env,
      GATEWAY_PORT_RANGE_START: '20000',
      GATEWAY_PORT_RANGE_END: '20099',
      GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
      GATEWAY_SNI_PORT: '8443',
      GATEWAY_SNI_PUBLIC_PORT: '443',
      GATEWAY_SNI_ZONE: 'relay.contoso.com',
    });
    expect(fromEnv.ok && fromEnv.options.pools[0]!.sni).toEqual({
      port: 8443,
      publicPort: 443,
      zone: 'relay.contoso.com',
    });
    const half = parseControllerOptions([], {
      ...env,
      GATEWAY_PORT_RANGE_START: '20000',
      GATEWAY_PORT_RANGE_END: '20099',
      GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
      GATEWAY_SNI_PORT: '443',
    });
    expect(!half.ok && half.problems).toEqual([
      'GATEWAY_SNI_PORT (a port) and GATEWAY_SNI_ZONE (a DNS zone) go together',
    ]);
  });
});
