// A gateway pool of 1,000 simulated locations (devices, tags and module identities in the sandbox IoT Hub, no
// processes: the controller's placement is the point) served by two gateway devices with 25 relay-gateway
// module instances each, with the hybrid connections spread over two Relay namespaces (two sandbox relays behind
// one ARM endpoint), through the unmodified azure-iothub and @azure/arm-relay SDKs over TLS. Every location is
// placed in one namespace, no twin passes 24 KiB, no port is used twice in the pool, and a restarted controller
// changes nothing.
import { normalizeGatewayConfig } from '../../modules/relay-gateway/src/config/normalize';
import { documentBytes } from '../../cloud/src/model/documents';
import type { JsonObject } from '../../cloud/src/model/json';
import type { PoolSettings } from '../../cloud/src/settings';
import { startControllerWorld, type ControllerWorld } from '../support/controller-world';

const LOCATIONS = 1000;
const INSTANCES = 25;
const GATEWAYS = ['gw-a', 'gw-b'];
const NAMESPACES = 2;
const TWIN_LIMIT_BYTES = 24 * 1024;
const POOL: PoolSettings = {
  name: 'big',
  firstPort: 20000,
  lastPort: 22099,
  allow: ['0.0.0.0/0'],
  gatewayModules: INSTANCES,
};
const MODULE_IDS = [
  'relay-gateway',
  ...Array.from({ length: INSTANCES - 1 }, (_, i) => `relay-gateway-${i + 2}`),
];
const locationId = (i: number) => `loc-${String(i).padStart(4, '0')}`;

interface Route {
  port: number;
  hybridConnection: string;
  service: string;
}

const routesOf = (doc: JsonObject) => (doc.routes ?? {}) as unknown as Record<string, Route>;
const hybridConnectionsOf = (doc: JsonObject) =>
  (doc.hybridConnections ?? {}) as unknown as Record<string, { namespace: string }>;

/** Hybrid connection name → namespace name, from ARM (one listed in two namespaces fails the test). */
async function namespaceOfEach(world: ControllerWorld): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  for (const namespace of world.arm.namespaceNames)
    for await (const hc of world.relayApi.hybridConnections.listByNamespace(
      world.arm.resourceGroup,
      namespace,
    )) {
      expect(where.get(hc.name!)).toBeUndefined();
      where.set(hc.name!, namespace);
    }
  return where;
}

/** Every gateway instance twin of one device, by module id. */
async function instanceTwins(world: ControllerWorld, deviceId: string): Promise<Map<string, JsonObject>> {
  const twins = new Map<string, JsonObject>();
  for (const moduleId of MODULE_IDS) twins.set(moduleId, await world.desired(deviceId, moduleId));
  return twins;
}

/** Route name → module id, over one device's instances (a route in two instances fails the test). */
function placementOf(twins: Map<string, JsonObject>): Map<string, string> {
  const where = new Map<string, string>();
  for (const [moduleId, doc] of twins)
    for (const name of Object.keys(routesOf(doc))) {
      expect(where.get(name)).toBeUndefined();
      where.set(name, moduleId);
    }
  return where;
}

describe('a gateway pool of 1,000 locations over 25 relay-gateway instances and two Relay namespaces (sandbox IoT Hub + Relay ARM)', () => {
  let world: ControllerWorld;
  const settings = { pools: [POOL], defaultPool: 'big' };

  beforeAll(async () => {
    world = await startControllerWorld({}, NAMESPACES);
    // Seeded in-process, as DPS and the IoT Edge agent would have left them: tags and module identities.
    for (let i = 0; i < LOCATIONS; i++) {
      const id = locationId(i);
      world.hub.createDevice(id, {
        iotEdge: true,
        tags: {
          relay: {
            role: 'location',
            services: {
              sql: { target: `10.${i >> 8}.${i & 255}.1:1433` },
              panel: { target: `10.${i >> 8}.${i & 255}.2:80` },
            },
          },
        },
      });
      world.hub.createModule(id, 'relay-forwarder');
    }
    for (const gw of GATEWAYS) {
      world.hub.createDevice(gw, { iotEdge: true, tags: { relay: { role: 'gateway', pool: 'big' } } });
      for (const moduleId of MODULE_IDS) world.hub.createModule(gw, moduleId);
    }
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  let firstPlacement: Map<string, string>;
  let firstRoutes: Map<string, number>;
  let firstNamespaces: Map<string, string>;

  it('places every location on one instance, each twin ≤ 24 KiB, ports unique pool-wide, both gateways alike', async () => {
    const controller = world.startController(settings, { concurrency: 8 });
    const result = await controller.reconcileNow();
    expect(result).toMatchObject({ outcome: 'converged', actionsFailed: 0 });
    expect([...result.outcomes.values()].filter((o) => o.problems.length > 0)).toEqual([]);
    await controller.stop();

    const a = await instanceTwins(world, 'gw-a');
    const b = await instanceTwins(world, 'gw-b');
    const ports = new Map<number, string>();
    firstRoutes = new Map();
    for (const [moduleId, doc] of a) {
      expect(b.get(moduleId)).toEqual(doc);
      expect(documentBytes(doc)).toBeLessThanOrEqual(TWIN_LIMIT_BYTES);
      expect(normalizeGatewayConfig(doc).ok).toBe(true);
      const routes = routesOf(doc);
      // Balanced: 1,000 locations over 25 instances, 40 each (newcomers go to the twin with the most room).
      expect(Object.keys(routes)).toHaveLength(80);
      for (const [name, route] of Object.entries(routes)) {
        expect(ports.get(route.port)).toBeUndefined();
        ports.set(route.port, name);
        firstRoutes.set(name, route.port);
        expect(route.port).toBeGreaterThanOrEqual(POOL.firstPort);
        expect(route.port).toBeLessThanOrEqual(POOL.lastPort);
      }
    }
    firstPlacement = placementOf(a);
    expect(firstPlacement.size).toBe(2 * LOCATIONS);
    // Every location's hybrid connection lives in exactly one namespace, the two share the fleet evenly (new
    // locations go where they leave the namespace least full), and each gateway twin entry names its namespace.
    firstNamespaces = await namespaceOfEach(world);
    expect(firstNamespaces.size).toBe(LOCATIONS);
    const perNamespace = new Map<string, number>();
    for (const namespace of firstNamespaces.values())
      perNamespace.set(namespace, (perNamespace.get(namespace) ?? 0) + 1);
    expect(Object.fromEntries(perNamespace)).toEqual({ 'sandbox-relay': 500, 'sandbox-relay-2': 500 });
    const hostsOf = new Map<string, Set<string>>();
    for (const doc of a.values())
      for (const [path, entry] of Object.entries(hybridConnectionsOf(doc))) {
        const namespace = firstNamespaces.get(path)!;
        hostsOf.set(namespace, (hostsOf.get(namespace) ?? new Set()).add(entry.namespace));
      }
    expect(hostsOf.get('sandbox-relay')).toEqual(new Set([world.relay.namespace]));
    expect(hostsOf.get('sandbox-relay-2')!.size).toBe(1);
    expect(hostsOf.get('sandbox-relay-2')).not.toEqual(hostsOf.get('sandbox-relay'));
    // A location's two routes sit on one instance, and its status tag names the ports the routes carry.
    for (const i of [0, 1, 499, 998, 999]) {
      const id = locationId(i);
      expect(firstPlacement.get(`${id}_sql`)).toBe(firstPlacement.get(`${id}_panel`));
      expect((await world.tags(id)).relayStatus).toMatchObject({
        state: 'ok',
        ports: { sql: firstRoutes.get(`${id}_sql`), panel: firstRoutes.get(`${id}_panel`) },
      });
    }
  }, 600_000);

  it('a restarted controller finds nothing to do, and newcomers and a departure move nobody', async () => {
    const restarted = world.startController(settings, { concurrency: 8 });
    expect(await restarted.reconcileNow()).toMatchObject({ outcome: 'converged', actionsDone: 0 });

    await world.removeDevice(locationId(7));
    for (const id of ['aaa-new-1', 'aaa-new-2']) {
      world.hub.createDevice(id, {
        iotEdge: true,
        tags: { relay: { role: 'location', services: { web: { target: '10.9.9.9:443' } } } },
      });
      world.hub.createModule(id, 'relay-forwarder');
    }
    expect(await restarted.reconcileNow()).toMatchObject({ outcome: 'converged', actionsFailed: 0 });
    await restarted.stop();

    const twins = await instanceTwins(world, 'gw-a');
    const after = placementOf(twins);
    const ports = new Set<number>();
    const portOf = new Map<string, number>();
    for (const doc of twins.values()) {
      expect(documentBytes(doc)).toBeLessThanOrEqual(TWIN_LIMIT_BYTES);
      for (const [name, r] of Object.entries(routesOf(doc))) {
        expect(ports.has(r.port)).toBe(false);
        ports.add(r.port);
        portOf.set(name, r.port);
      }
    }
    for (const [name, moduleId] of firstPlacement) {
      if (name.startsWith(`${locationId(7)}_`)) {
        expect(after.has(name)).toBe(false);
        continue;
      }
      expect(after.get(name)).toBe(moduleId);
    }
    for (const [name, port] of firstRoutes) if (after.has(name)) expect(portOf.get(name)).toBe(port);
    expect(after.has('aaa-new-1_web')).toBe(true);
    expect(after.has('aaa-new-2_web')).toBe(true);
    // Nobody changed namespace; the departed location's hybrid connection is gone, the newcomers have theirs.
    const namespaces = await namespaceOfEach(world);
    for (const [path, namespace] of firstNamespaces)
      if (path.endsWith(locationId(7))) expect(namespaces.has(path)).toBe(false);
      else expect(namespaces.get(path)).toBe(namespace);
    expect(namespaces.size).toBe(LOCATIONS - 1 + 2);
    // The newcomers went to instances with room: the one that lost loc-0007 first.
    expect(after.get('aaa-new-1_web')).toBe(firstPlacement.get(`${locationId(7)}_sql`));
  }, 600_000);
});
