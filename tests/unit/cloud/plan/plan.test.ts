import { normalizeForwarderConfig } from '../../../../modules/relay-forwarder/src/config/normalize';
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import { applyMergePatch, type JsonObject } from '../../../../cloud/src/model/json';
import { keyRef, type Observed } from '../../../../cloud/src/model/observed';
import { mintToken } from '../../../../cloud/src/model/tokens';
import type { Action } from '../../../../cloud/src/plan/actions';
import { planReconcile } from '../../../../cloud/src/plan/plan';
import {
  gatewayDevice,
  HOUR_MS,
  locationDevice,
  moduleTwin,
  NOW_MS,
  NS,
  observedOf,
  testSettings,
} from '../../../support/controller-fixtures';

const settings = testSettings();
const META = (loc: string, dev: string) =>
  JSON.stringify({
    managedBy: 'hybrid-relay-fleet/fleet-controller',
    controller: 'default',
    location: loc,
    deviceId: dev,
  });
const KEYS = new Map([
  [keyRef('hrf-berlin', 'listen'), 'berlin-listen-key'],
  [keyRef('hrf-berlin', 'send'), 'berlin-send-key'],
]);
const token = (hc: string, rule: 'listen' | 'send', key: string, nowMs = NOW_MS) =>
  mintToken(
    { namespaceHost: NS, hybridConnection: hc, rule },
    key,
    { lifetimeMs: HOUR_MS, renewMarginMs: HOUR_MS / 2 },
    nowMs,
  );

// Applies a plan's twin writes to the observed twins (what IoT Hub would do with the patches).
function applyTwinWrites(observed: Observed, actions: readonly Action[]): Observed {
  let { devices, modules } = observed;
  for (const a of actions) {
    if (a.kind === 'writeForwarderTwin' || a.kind === 'writeGatewayTwin') {
      modules = modules.map((m) =>
        m.deviceId === a.deviceId && m.moduleId === a.moduleId
          ? { ...m, desired: applyMergePatch(m.desired, a.patch) }
          : m,
      );
    } else if (a.kind === 'writeLocationStatus') {
      devices = devices.map((d) =>
        d.deviceId === a.deviceId ? { ...d, tags: applyMergePatch(d.tags, a.patch) } : d,
      );
    }
  }
  return { ...observed, devices, modules };
}

const berlinFleet = (extra: Partial<Observed> = {}) =>
  observedOf({
    devices: [
      locationDevice('berlin', { sql: '10.0.0.5:1433', panel: '127.0.0.1:8080' }),
      gatewayDevice('gw-1'),
    ],
    modules: [moduleTwin('berlin', 'relay-forwarder'), moduleTwin('gw-1', 'relay-gateway')],
    ...extra,
  });

describe('planReconcile', () => {
  it('starts a new location in ARM: its hybrid connection, a Listen and a Send rule, then their keys', () => {
    const plan = planReconcile(berlinFleet(), settings);
    expect(plan.stage).toBe('arm');
    expect(plan.actions).toEqual([
      {
        kind: 'createHybridConnection',
        location: 'berlin',
        hybridConnection: 'hrf-berlin',
        userMetadata: META('berlin', 'berlin'),
      },
      {
        kind: 'createAuthorizationRule',
        location: 'berlin',
        hybridConnection: 'hrf-berlin',
        rule: 'listen',
        rights: ['Listen'],
      },
      {
        kind: 'createAuthorizationRule',
        location: 'berlin',
        hybridConnection: 'hrf-berlin',
        rule: 'send',
        rights: ['Send'],
      },
      { kind: 'fetchKeys', location: 'berlin', hybridConnection: 'hrf-berlin', rule: 'listen' },
      { kind: 'fetchKeys', location: 'berlin', hybridConnection: 'hrf-berlin', rule: 'send' },
    ]);
  });

  it('then writes both modules and the status, with documents the modules accept, and is done after', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const plan = planReconcile(observed, settings);
    expect(plan.stage).toBe('twins');
    expect(plan.actions.map((a) => a.kind)).toEqual([
      'writeForwarderTwin',
      'writeGatewayTwin',
      'writeLocationStatus',
    ]);
    const [fwd, gw, status] = plan.actions as [
      Action & { patch: JsonObject },
      Action & { patch: JsonObject },
      Action & { patch: JsonObject },
    ];
    expect(fwd.patch).toEqual({
      schemaVersion: 1,
      hybridConnections: {
        'hrf-berlin': {
          namespace: NS,
          path: 'hrf-berlin',
          sasToken: token('hrf-berlin', 'listen', 'berlin-listen-key'),
          services: { panel: { target: '127.0.0.1:8080' }, sql: { target: '10.0.0.5:1433' } },
        },
      },
    });
    expect(gw.patch).toEqual({
      schemaVersion: 1,
      hybridConnections: {
        'hrf-berlin': {
          namespace: NS,
          path: 'hrf-berlin',
          sasToken: token('hrf-berlin', 'send', 'berlin-send-key'),
        },
      },
      routes: {
        berlin_panel: { port: 20000, hybridConnection: 'hrf-berlin', service: 'panel', allow: ['0.0.0.0/0'] },
        berlin_sql: { port: 20001, hybridConnection: 'hrf-berlin', service: 'sql', allow: ['0.0.0.0/0'] },
      },
    });
    expect(status).toMatchObject({
      kind: 'writeLocationStatus',
      deviceId: 'berlin',
      state: 'ok',
      problems: [],
    });
    expect(status.patch).toEqual({
      relayStatus: {
        location: 'berlin',
        pool: 'default',
        hybridConnection: 'hrf-berlin',
        publicHost: 'gw.example.com',
        ports: { panel: 20000, sql: 20001 },
        state: 'ok',
      },
    });
    expect(normalizeForwarderConfig(fwd.patch, { nowMs: NOW_MS }).ok).toBe(true);
    expect(normalizeGatewayConfig(gw.patch, { nowMs: NOW_MS }).ok).toBe(true);

    const after = applyTwinWrites(observed, plan.actions);
    const again = planReconcile(after, settings);
    expect(again.stage).toBe('done');
    expect(again.actions).toEqual([]);
    // The default margin is 3/4 of the lifetime: renewal falls due a quarter of the way in.
    expect(again.nextRenewalAtMs).toBe(NOW_MS + HOUR_MS / 4);
  });

  it('keeps ports when the controller restarts with no memory (allocation read back from the status tag)', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, settings).actions);
    // A new location that sorts first must not take berlin's ports.
    const withNewcomer = {
      ...converged,
      devices: [
        ...converged.devices,
        locationDevice('aachen', { sql: '10.1.0.5:1433', panel: '10.1.0.6:80' }),
      ],
      keys: new Map(),
    };
    const plan = planReconcile(withNewcomer, settings);
    const ports = plan.outcomes.get('berlin')!.ports;
    expect(Object.fromEntries(ports)).toEqual({ panel: 20000, sql: 20001 });
    expect(Object.fromEntries(plan.outcomes.get('aachen')!.ports)).toEqual({ panel: 20002, sql: 20003 });
  });

  it('renews a token at half-life by rewriting only that token', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, settings).actions);
    const later = { ...converged, nowMs: NOW_MS + HOUR_MS / 2 + 1 };
    const plan = planReconcile(later, settings);
    expect(plan.stage).toBe('twins');
    const fwd = plan.actions.find((a) => a.kind === 'writeForwarderTwin')!;
    expect(fwd).toMatchObject({
      patch: {
        hybridConnections: {
          'hrf-berlin': { sasToken: token('hrf-berlin', 'listen', 'berlin-listen-key', later.nowMs) },
        },
      },
      changes: ['hrf-berlin.sasToken'],
    });
    const gw = plan.actions.find((a) => a.kind === 'writeGatewayTwin')!;
    expect(gw).toMatchObject({
      patch: { hybridConnections: { 'hrf-berlin': { sasToken: expect.any(String) } } },
      locations: ['berlin'],
    });
    expect(Object.keys((gw as { patch: JsonObject }).patch)).toEqual(['hybridConnections']);
    // Without a key at hand (a restarted controller), it asks ARM for the keys first.
    expect(planReconcile({ ...later, keys: new Map() }, settings)).toMatchObject({
      stage: 'arm',
      actions: [
        { kind: 'fetchKeys', rule: 'listen' },
        { kind: 'fetchKeys', rule: 'send' },
      ],
    });
  });

  it('reports port exhaustion on the location that did not fit, and serves the others', () => {
    const small = testSettings({}, 3);
    const observed = observedOf({
      devices: [
        locationDevice('aa', { x: '10.0.0.1:1', y: '10.0.0.1:2' }),
        locationDevice('bb', { x: '10.0.0.2:1', y: '10.0.0.2:2' }),
        gatewayDevice('gw-1'),
      ],
      modules: [moduleTwin('gw-1', 'relay-gateway')],
    });
    const plan = planReconcile(observed, small);
    expect(Object.fromEntries(plan.outcomes.get('aa')!.ports)).toEqual({ x: 20000, y: 20001 });
    expect(Object.fromEntries(plan.outcomes.get('bb')!.ports)).toEqual({ x: 20002 });
    expect(plan.outcomes.get('aa')!.problems.map((p) => p.code)).toEqual(['FORWARDER_MODULE_MISSING']);
    expect(plan.outcomes.get('bb')!.problems).toContainEqual({
      code: 'PORT_RANGE_EXHAUSTED',
      message: 'no free port in 20000-20002 of pool "default" for y',
      severity: 'error',
    });
  });

  it('tears a removed location down in order: twins first, then its hybrid connection', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, settings).actions);
    // The location device is deleted (its forwarder module with it).
    const removed: Observed = {
      ...converged,
      devices: converged.devices.filter((d) => d.deviceId !== 'berlin'),
      modules: converged.modules.filter((m) => m.deviceId !== 'berlin'),
    };
    const first = planReconcile(removed, settings);
    expect(first.stage).toBe('twins');
    expect(first.actions).toEqual([
      expect.objectContaining({
        kind: 'writeGatewayTwin',
        locations: ['berlin'],
        patch: {
          hybridConnections: { 'hrf-berlin': null },
          routes: { berlin_panel: null, berlin_sql: null },
        },
      }),
    ]);
    const second = planReconcile(applyTwinWrites(removed, first.actions), settings);
    expect(second.stage).toBe('cleanup');
    expect(second.actions).toEqual([
      { kind: 'deleteHybridConnection', location: 'berlin', hybridConnection: 'hrf-berlin' },
    ]);
  });

  it('removes one service: its route goes, its port is freed, the rest stays', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, settings).actions);
    const devices = converged.devices.map((d) =>
      d.deviceId === 'berlin'
        ? { ...d, tags: applyMergePatch(d.tags, { relay: { services: { panel: null } } }) }
        : d,
    );
    const plan = planReconcile({ ...converged, devices }, settings);
    const byKind = Object.fromEntries(plan.actions.map((a) => [a.kind, a]));
    expect(byKind.writeGatewayTwin).toMatchObject({ patch: { routes: { berlin_panel: null } } });
    expect(byKind.writeForwarderTwin).toMatchObject({
      patch: { hybridConnections: { 'hrf-berlin': { services: { panel: null } } } },
    });
    expect(byKind.writeLocationStatus).toMatchObject({ patch: { relayStatus: { ports: { panel: null } } } });
  });

  it('moves a location to another pool: routes leave the old gateways and ports come from the new range', () => {
    const two = testSettings({}, 10, [
      { name: 'edge', firstPort: 30000, lastPort: 30009, allow: ['10.0.0.0/8'] },
    ]);
    const observed = observedOf({
      devices: [
        locationDevice('berlin', { sql: '10.0.0.5:1433' }),
        gatewayDevice('gw-1'),
        gatewayDevice('gw-edge', 'edge'),
      ],
      modules: [
        moduleTwin('berlin', 'relay-forwarder'),
        moduleTwin('gw-1', 'relay-gateway'),
        moduleTwin('gw-edge', 'relay-gateway'),
      ],
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, two).actions);
    const moved = {
      ...converged,
      devices: converged.devices.map((d) =>
        d.deviceId === 'berlin' ? { ...d, tags: applyMergePatch(d.tags, { relay: { pool: 'edge' } }) } : d,
      ),
    };
    const plan = planReconcile(moved, two);
    const gw = (id: string) => plan.actions.find((a) => a.kind === 'writeGatewayTwin' && a.deviceId === id);
    expect(gw('gw-1')).toMatchObject({
      patch: { hybridConnections: { 'hrf-berlin': null }, routes: { berlin_sql: null } },
    });
    expect(gw('gw-edge')).toMatchObject({
      patch: { routes: { berlin_sql: { port: 30000, allow: ['10.0.0.0/8'] } } },
    });
    expect(plan.outcomes.get('berlin')).toMatchObject({ pool: 'edge', ports: new Map([['sql', 30000]]) });
  });

  it('cleans up a device that stops being a location: forwarder entry and status go, then its hybrid connection', () => {
    const observed = berlinFleet({
      hybridConnections: [{ name: 'hrf-berlin', userMetadata: META('berlin', 'berlin') }],
      keys: KEYS,
    });
    const converged = applyTwinWrites(observed, planReconcile(observed, settings).actions);
    const untagged = {
      ...converged,
      devices: converged.devices.map((d) =>
        d.deviceId === 'berlin' ? { ...d, tags: applyMergePatch(d.tags, { relay: null }) } : d,
      ),
    };
    const plan = planReconcile(untagged, settings);
    const byKind = Object.fromEntries(plan.actions.map((a) => [a.kind, a]));
    expect(byKind.writeForwarderTwin).toMatchObject({
      patch: { hybridConnections: { 'hrf-berlin': null } },
      location: 'berlin',
    });
    expect(byKind.writeLocationStatus).toMatchObject({ patch: { relayStatus: null }, location: 'berlin' });
    expect(byKind.writeGatewayTwin).toMatchObject({
      patch: { routes: { berlin_panel: null, berlin_sql: null } },
    });
    const after = planReconcile(applyTwinWrites(untagged, plan.actions), settings);
    expect(after.actions).toEqual([
      { kind: 'deleteHybridConnection', location: 'berlin', hybridConnection: 'hrf-berlin' },
    ]);
  });

  it('never deletes or reuses a hybrid connection it does not own, and leaves foreign routes and entries alone', () => {
    const observed = observedOf({
      devices: [locationDevice('berlin', { sql: '10.0.0.5:1433' }), gatewayDevice('gw-1')],
      modules: [
        moduleTwin('gw-1', 'relay-gateway', {
          schemaVersion: 1,
          drainTimeoutMs: 5000,
          hybridConnections: {
            manual: {
              namespace: NS,
              path: 'manual',
              sasToken: 'SharedAccessSignature sr=x&sig=y&se=1&skn=z',
            },
          },
          routes: {
            legacy: { port: 20000, hybridConnection: 'manual', service: 'db', allow: ['10.0.0.0/8'] },
          },
        }),
      ],
      hybridConnections: [
        { name: 'hrf-berlin', userMetadata: 'made by hand' },
        {
          name: 'hrf-other',
          userMetadata: JSON.stringify({
            managedBy: 'hybrid-relay-fleet/fleet-controller',
            controller: 'fleet-b',
          }),
        },
        { name: 'manual' },
      ],
    });
    const plan = planReconcile(observed, settings);
    expect(plan.outcomes.get('berlin')!.problems.map((p) => p.code)).toContain('HYBRID_CONNECTION_NOT_OWNED');
    // Port 20000 belongs to the hand-made route, so berlin's sql gets 20001.
    expect(Object.fromEntries(plan.outcomes.get('berlin')!.ports)).toEqual({ sql: 20001 });
    expect(plan.actions.some((a) => a.kind.endsWith('HybridConnection') || a.kind === 'fetchKeys')).toBe(
      false,
    );
    const gw = plan.actions.find((a) => a.kind === 'writeGatewayTwin');
    expect(gw).toBeUndefined();
  });

  it('lets the device already recorded as a location keep it when another device claims the same id', () => {
    const observed = observedOf({
      devices: [
        locationDevice(
          'zz-device',
          { a: '10.0.0.1:1' },
          { location: 'shared' },
          { relayStatus: { location: 'shared', ports: {} } },
        ),
        locationDevice('aa-device', { a: '10.0.0.2:1' }, { location: 'shared' }),
      ],
    });
    const plan = planReconcile(observed, settings);
    expect(plan.outcomes.get('zz-device')!.locationId).toBe('shared');
    expect(plan.outcomes.get('aa-device')!.problems).toEqual([
      {
        code: 'DUPLICATE_LOCATION',
        message:
          'location id "shared" is already used by device "zz-device" with other services ' +
          '(a replica must declare the same services, or none)',
        severity: 'error',
      },
    ]);
  });

  it('admits only what fits in a gateway twin and reports GATEWAY_TWIN_FULL on the rest', () => {
    const tight = testSettings({ gatewayTwinMaxBytes: 1200 }, 100);
    const devices = ['l1', 'l2', 'l3', 'l4'].map((id) => locationDevice(id, { sql: '10.0.0.5:1433' }));
    const plan = planReconcile(
      observedOf({
        devices: [...devices, gatewayDevice('gw-1')],
        modules: [moduleTwin('gw-1', 'relay-gateway')],
      }),
      tight,
    );
    const full = [...plan.outcomes.values()].filter((o) =>
      o.problems.some((p) => p.code === 'GATEWAY_TWIN_FULL'),
    );
    expect(full.length).toBeGreaterThan(0);
    expect(full.every((o) => o.ports.size === 0)).toBe(true);
    const admitted = [...plan.outcomes.values()].filter((o) => o.ports.size > 0).map((o) => o.locationId);
    expect(admitted).toEqual(['l1', 'l2', 'l3', 'l4'].slice(0, admitted.length));
  });

  it('does not repeat an ARM action that failed in this reconcile: the location reports it, the others proceed', () => {
    const observed = observedOf({
      devices: [locationDevice('aa', { x: '10.0.0.1:1' }), locationDevice('bb', { x: '10.0.0.2:1' })],
      hybridConnections: [{ name: 'hrf-bb', userMetadata: META('bb', 'bb') }],
      failures: new Map([
        ['createHybridConnection:hrf-aa', { code: 'CONTROLLER_ARM_FAILED', message: 'throttled' }],
      ]),
    });
    const plan = planReconcile(observed, settings);
    expect(plan.stage).toBe('twins');
    expect(plan.outcomes.get('aa')!.problems).toContainEqual({
      code: 'ARM_FAILED',
      message: 'createHybridConnection: throttled',
      severity: 'error',
    });
  });
});
