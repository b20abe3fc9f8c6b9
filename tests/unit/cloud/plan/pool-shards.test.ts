// planReconcile with several relay-gateway instances per gateway device: each instance twin carries only its
// shard of the pool's locations, ports stay unique pool-wide, and nothing moves when the fleet changes.
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import { documentBytes } from '../../../../cloud/src/model/documents';
import { applyMergePatch, type JsonObject } from '../../../../cloud/src/model/json';
import { keyRef, type Observed, type ObservedDevice } from '../../../../cloud/src/model/observed';
import { planReconcile } from '../../../../cloud/src/plan/plan';
import { resolveSettings, type ControllerSettings } from '../../../../cloud/src/settings';
import {
  gatewayDevice,
  HOUR_MS,
  locationDevice,
  moduleTwin,
  NOW_MS,
  observedOf,
} from '../../../support/controller-fixtures';

const INSTANCES = ['relay-gateway', 'relay-gateway-2', 'relay-gateway-3'];
const settingsOf = (gatewayModules: number, targetBytes = 4096): ControllerSettings =>
  resolveSettings({
    pools: [{ name: 'default', firstPort: 20000, lastPort: 20999, allow: ['0.0.0.0/0'], gatewayModules }],
    tokenLifetimeMs: HOUR_MS,
    gatewayTwinTargetBytes: targetBytes,
    gatewayTwinMaxBytes: targetBytes + 1024,
  });
const META = (loc: string) =>
  JSON.stringify({
    managedBy: 'hybrid-relay-fleet/fleet-controller',
    controller: 'default',
    location: loc,
    deviceId: loc,
  });

const locationIds = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `loc-${String(from + i).padStart(3, '0')}`);

/** A fleet whose hybrid connections and keys exist, so one planning pass reaches the twin stage. */
function fleet(locations: string[], gateways: Record<string, string[]>): Observed {
  const devices: ObservedDevice[] = locations.map((id) =>
    locationDevice(id, { sql: '10.0.0.5:1433', panel: '10.0.0.6:80' }),
  );
  const modules = locations.map((id) => moduleTwin(id, 'relay-forwarder'));
  for (const [deviceId, instances] of Object.entries(gateways)) {
    devices.push(gatewayDevice(deviceId));
    for (const moduleId of instances) modules.push(moduleTwin(deviceId, moduleId));
  }
  const keys = new Map<string, string>();
  for (const id of locations) {
    keys.set(keyRef(`hrf-${id}`, 'listen'), `${id}-listen`);
    keys.set(keyRef(`hrf-${id}`, 'send'), `${id}-send`);
  }
  return observedOf({
    devices,
    modules,
    hybridConnections: locations.map((id) => ({ name: `hrf-${id}`, userMetadata: META(id) })),
    keys,
  });
}

/** Plans and applies twin writes until the plan is done (what executing against IoT Hub would do). */
function converge(observed: Observed, settings: ControllerSettings): Observed {
  for (let pass = 0; pass < 5; pass++) {
    const plan = planReconcile(observed, settings);
    if (plan.stage === 'done') return observed;
    if (plan.stage === 'cleanup') {
      const gone = new Set(
        plan.actions.map((a) => (a.kind === 'deleteHybridConnection' ? a.hybridConnection : '')),
      );
      observed = {
        ...observed,
        hybridConnections: observed.hybridConnections.filter((h) => !gone.has(h.name)),
      };
      continue;
    }
    expect(plan.stage).toBe('twins');
    let { devices, modules } = observed;
    for (const a of plan.actions) {
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
    observed = { ...observed, devices, modules };
  }
  throw new Error('did not converge in 5 passes');
}

const desiredOf = (o: Observed, deviceId: string, moduleId: string): JsonObject =>
  o.modules.find((m) => m.deviceId === deviceId && m.moduleId === moduleId)!.desired;
const routesOf = (doc: JsonObject) => (doc.routes ?? {}) as Record<string, { port: number }>;
const shardOf = (o: Observed, deviceId: string) => {
  const where = new Map<string, string>();
  for (const moduleId of INSTANCES)
    for (const name of Object.keys(routesOf(desiredOf(o, deviceId, moduleId))))
      where.set(name.split('_')[0]!, moduleId);
  return where;
};

describe('gateway pools over several relay-gateway instances', () => {
  const both = { 'gw-1': INSTANCES, 'gw-2': INSTANCES };

  it('spreads a pool too big for one twin over the instances, each device alike, ports unique pool-wide', () => {
    const settings = settingsOf(3);
    const o = converge(fleet(locationIds(18), both), settings);
    const ports: number[] = [];
    for (const moduleId of INSTANCES) {
      const doc = desiredOf(o, 'gw-1', moduleId);
      expect(desiredOf(o, 'gw-2', moduleId)).toEqual(doc);
      expect(normalizeGatewayConfig(doc, { nowMs: NOW_MS }).ok).toBe(true);
      expect(documentBytes(doc)).toBeLessThanOrEqual(4096);
      const routes = routesOf(doc);
      expect(Object.keys(routes).length).toBeGreaterThan(0);
      // Each instance holds the Send token of exactly the locations it routes.
      const routed = new Set(Object.keys(routes).map((n) => `hrf-${n.split('_')[0]!}`));
      expect(Object.keys(doc.hybridConnections as JsonObject).sort()).toEqual([...routed].sort());
      ports.push(...Object.values(routes).map((r) => r.port));
    }
    expect(ports).toHaveLength(36);
    expect(new Set(ports).size).toBe(36);
    const plan = planReconcile(o, settings);
    expect(plan.stage).toBe('done');
    expect([...plan.outcomes.values()].every((oc) => oc.problems.length === 0)).toBe(true);
  });

  it('one instance alone refuses what does not fit (GATEWAY_TWIN_FULL); three serve everyone', () => {
    const one = planReconcile(fleet(locationIds(18), { 'gw-1': ['relay-gateway'] }), settingsOf(1));
    const full = [...one.outcomes.values()].filter((oc) =>
      oc.problems.some((p) => p.code === 'GATEWAY_TWIN_FULL'),
    );
    expect(full.length).toBeGreaterThan(0);
    expect(full[0]!.problems.find((p) => p.code === 'GATEWAY_TWIN_FULL')!.message).toContain(
      'add gateway modules',
    );
    const three = planReconcile(fleet(locationIds(18), both), settingsOf(3));
    expect([...three.outcomes.values()].every((oc) => oc.problems.length === 0)).toBe(true);
  });

  it('keeps every location on its instance and every port as locations come and go, and across a restart', () => {
    const settings = settingsOf(3);
    let o = converge(fleet(locationIds(12), both), settings);
    const before = shardOf(o, 'gw-1');
    const portsBefore = routesOf(desiredOf(o, 'gw-1', 'relay-gateway'));
    // Newcomers that sort first, one departure: nobody already placed moves.
    const next = fleet(
      [...locationIds(3, 900).map((id) => id.replace('loc-', 'aaa-')), ...locationIds(12)],
      both,
    );
    o = converge(
      {
        ...next,
        devices: [
          ...o.devices.filter((d) => d.deviceId !== 'loc-004'),
          ...next.devices.filter((d) => d.deviceId.startsWith('aaa-')),
        ],
        modules: [...o.modules, ...next.modules.filter((m) => m.deviceId.startsWith('aaa-'))].filter(
          (m) => m.deviceId !== 'loc-004',
        ),
      },
      settings,
    );
    const after = shardOf(o, 'gw-1');
    for (const [id, moduleId] of before) if (id !== 'loc-004') expect(after.get(id)).toBe(moduleId);
    expect(after.has('loc-004')).toBe(false);
    const portsAfter = routesOf(desiredOf(o, 'gw-1', 'relay-gateway'));
    for (const [name, r] of Object.entries(portsBefore))
      if (!name.startsWith('loc-004')) expect(portsAfter[name]!.port).toBe(r.port);
    // A restart plans from the same twins: nothing to do.
    expect(planReconcile(o, settings).stage).toBe('done');
  });

  it('places no newcomer on an instance one gateway device does not have yet, and fills it in once it has', () => {
    const settings = settingsOf(3, 20_000);
    const partial = { 'gw-1': INSTANCES, 'gw-2': ['relay-gateway', 'relay-gateway-2'] };
    const o = converge(fleet(locationIds(6), partial), settings);
    expect(Object.keys(routesOf(desiredOf(o, 'gw-1', 'relay-gateway-3')))).toEqual([]);
    const withThird = converge(
      {
        ...o,
        modules: [...o.modules, moduleTwin('gw-2', 'relay-gateway-3')],
      },
      settings,
    );
    // The instances already serving keep their locations; gw-2's new instance mirrors gw-1's (empty) one.
    expect(shardOf(withThird, 'gw-1')).toEqual(shardOf(o, 'gw-1'));
    expect(desiredOf(withThird, 'gw-2', 'relay-gateway-3')).toEqual(
      desiredOf(withThird, 'gw-1', 'relay-gateway-3'),
    );
  });

  it('clears an instance beyond the pool setting of its managed routes (its locations go to the others)', () => {
    const three = settingsOf(3);
    const o = converge(fleet(locationIds(12), both), three);
    const two = settingsOf(2, 8192);
    const after = converge(o, two);
    expect(routesOf(desiredOf(after, 'gw-1', 'relay-gateway-3'))).toEqual({});
    const placed = shardOf(after, 'gw-1');
    expect(placed.size).toBe(12);
    expect(new Set(placed.values())).toEqual(new Set(['relay-gateway', 'relay-gateway-2']));
    const ports = INSTANCES.flatMap((m) =>
      Object.values(routesOf(desiredOf(after, 'gw-1', m))).map((r) => r.port),
    );
    expect(new Set(ports).size).toBe(24);
  });
});
