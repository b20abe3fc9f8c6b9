// The fleet controller against the sandbox IoT Hub and the sandbox Relay ARM API over TLS, with the unmodified
// azure-iothub and @azure/arm-relay SDKs: ports, restarts, exhaustion, removal, crash and restart.
import { normalizeForwarderConfig } from '../../modules/relay-forwarder/src/config/normalize';
import { normalizeGatewayConfig } from '../../modules/relay-gateway/src/config/normalize';
import { parseSasToken } from '../../modules/common/src/hc/sas';
import { IotHubFleetTwins } from '../../cloud/src/adapters/fleet-twins';
import type { JsonObject } from '../../cloud/src/model/json';
import { startControllerWorld, DEFAULT_POOL, type ControllerWorld } from '../support/controller-world';

const TWO_SERVICES = { sql: '10.0.0.5:1433', panel: '127.0.0.1:8080' };
const routesOf = (doc: JsonObject) =>
  (doc.routes ?? {}) as Record<string, { port: number; hybridConnection: string; service: string }>;

describe('fleet controller (sandbox IoT Hub + Relay ARM, unmodified SDKs)', () => {
  let world: ControllerWorld;

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
    await world.addGateway('gw-2');
  });

  afterAll(async () => {
    await world.close();
  });

  it('gives two locations with the same service names different ports, and writes documents both modules accept', async () => {
    await world.addLocation('berlin', TWO_SERVICES);
    await world.addLocation('paris', TWO_SERVICES);
    const controller = world.startController({});
    const result = await controller.reconcileNow();
    expect(result).toMatchObject({ outcome: 'converged', actionsFailed: 0 });

    const gw1 = await world.desired('gw-1', 'relay-gateway');
    expect(await world.desired('gw-2', 'relay-gateway')).toEqual(gw1);
    const routes = routesOf(gw1);
    expect(Object.keys(routes).sort()).toEqual(['berlin_panel', 'berlin_sql', 'paris_panel', 'paris_sql']);
    const ports = Object.values(routes).map((r) => r.port);
    expect(new Set(ports).size).toBe(4);
    expect(normalizeGatewayConfig(gw1).ok).toBe(true);

    const berlin = await world.desired('berlin', 'relay-forwarder');
    expect(normalizeForwarderConfig(berlin).ok).toBe(true);
    const entry = (berlin.hybridConnections as Record<string, JsonObject>)['hrf-berlin']!;
    expect(entry).toMatchObject({
      namespace: world.relay.namespace,
      path: 'hrf-berlin',
      services: { sql: { target: '10.0.0.5:1433' } },
    });
    // Least privilege: Listen rule at the edge, Send rule on the gateways, never Manage.
    expect(parseSasToken(entry.sasToken as string).keyName).toBe('listen');
    const gwEntry = (gw1.hybridConnections as Record<string, JsonObject>)['hrf-berlin']!;
    expect(parseSasToken(gwEntry.sasToken as string).keyName).toBe('send');

    expect(await world.hybridConnectionNames()).toEqual(['hrf-berlin', 'hrf-paris']);
    const rules: Record<string, string[]> = {};
    for await (const r of world.relayApi.hybridConnections.listAuthorizationRules(
      world.arm.resourceGroup,
      world.arm.namespaceName,
      'hrf-berlin',
    ))
      rules[r.name!] = r.rights ?? [];
    expect(rules).toEqual({ listen: ['Listen'], send: ['Send'] });

    const status = (await world.tags('paris')).relayStatus as JsonObject;
    expect(status).toMatchObject({ location: 'paris', hybridConnection: 'hrf-paris', state: 'ok' });
    expect(status.ports).toEqual({ panel: routes.paris_panel!.port, sql: routes.paris_sql!.port });
    await controller.stop();
  });

  it('keeps every port across a controller restart, even when a location that sorts first arrives', async () => {
    const before = routesOf(await world.desired('gw-1', 'relay-gateway'));
    await world.addLocation('aachen', TWO_SERVICES);
    const restarted = world.startController({});
    expect((await restarted.reconcileNow()).outcome).toBe('converged');
    const after = routesOf(await world.desired('gw-1', 'relay-gateway'));
    for (const name of Object.keys(before)) expect(after[name]!.port).toBe(before[name]!.port);
    expect(Object.keys(after)).toEqual(expect.arrayContaining(['aachen_panel', 'aachen_sql']));
    expect(new Set(Object.values(after).map((r) => r.port)).size).toBe(Object.keys(after).length);
    // Nothing to do on the next reconcile: idempotent.
    expect(await restarted.reconcileNow()).toMatchObject({ outcome: 'converged', actionsDone: 0 });
    await restarted.stop();
  });

  it('reports range exhaustion on the location that did not fit, where a query finds it, and serves the others', async () => {
    const tiny = { name: 'tiny', firstPort: 30000, lastPort: 30002, allow: ['10.0.0.0/8'] };
    await world.addGateway('gw-tiny', 'tiny');
    await world.addLocation('tiny-a', TWO_SERVICES, { pool: 'tiny' });
    await world.addLocation('tiny-b', TWO_SERVICES, { pool: 'tiny' });
    const controller = world.startController({ pools: [DEFAULT_POOL, tiny] });
    const result = await controller.reconcileNow();
    expect(result.outcome).toBe('converged');
    const routes = routesOf(await world.desired('gw-tiny', 'relay-gateway'));
    expect(Object.keys(routes).sort()).toEqual(['tiny-a_panel', 'tiny-a_sql', 'tiny-b_panel']);
    expect((await world.tags('tiny-a')).relayStatus).toMatchObject({
      state: 'ok',
      ports: { panel: 30000, sql: 30001 },
    });
    expect((await world.tags('tiny-b')).relayStatus).toMatchObject({
      state: 'error',
      ports: { panel: 30002 },
      problems: { PORT_RANGE_EXHAUSTED: 'no free port in 30000-30002 of pool "tiny" for sql' },
    });
    const query = world.registry.createQuery(
      "SELECT deviceId FROM devices WHERE tags.relayStatus.state = 'error'",
    );
    const { result: rows } = await query.next();
    expect((rows as { deviceId: string }[]).map((r) => r.deviceId)).toEqual(['tiny-b']);
    await controller.stop();
  });

  it('removing a location frees its ports and deletes its hybrid connection; a newcomer reuses the port', async () => {
    const before = routesOf(await world.desired('gw-1', 'relay-gateway'));
    const parisPorts = [before.paris_panel!.port, before.paris_sql!.port].sort();
    await world.removeDevice('paris');
    const controller = world.startController({
      pools: [DEFAULT_POOL, { name: 'tiny', firstPort: 30000, lastPort: 30002, allow: ['10.0.0.0/8'] }],
    });
    const result = await controller.reconcileNow();
    expect(result).toMatchObject({
      outcome: 'converged',
      stages: expect.arrayContaining(['twins', 'cleanup', 'done']),
    });
    const after = routesOf(await world.desired('gw-1', 'relay-gateway'));
    expect(Object.keys(after).some((n) => n.startsWith('paris_'))).toBe(false);
    expect(
      ((await world.desired('gw-2', 'relay-gateway')).hybridConnections as JsonObject)['hrf-paris'],
    ).toBeUndefined();
    expect(await world.hybridConnectionNames()).not.toContain('hrf-paris');
    await expect(
      world.relayApi.hybridConnections.get(world.arm.resourceGroup, world.arm.namespaceName, 'hrf-paris'),
    ).rejects.toMatchObject({ statusCode: 404 });

    await world.addLocation('quito', { web: '10.9.0.1:80' });
    await controller.reconcileNow();
    const withQuito = routesOf(await world.desired('gw-1', 'relay-gateway'));
    expect(withQuito.quito_web!.port).toBe(parisPorts[0]);
    await controller.stop();
  });

  it('reads every page of a query result (the adapter follows the continuation token)', async () => {
    const paged = new IotHubFleetTwins(world.registry, { pageSize: 2 });
    const devices = await paged.queryDevices();
    const modules = await paged.queryModules(['relay-forwarder', 'relay-gateway']);
    expect(devices.length).toBeGreaterThan(4);
    expect(new Set(devices.map((d) => d.deviceId)).size).toBe(devices.length);
    expect(devices.map((d) => d.deviceId).sort()).toEqual(
      (await new IotHubFleetTwins(world.registry).queryDevices()).map((d) => d.deviceId).sort(),
    );
    expect(modules.length).toBe(devices.length);
  });

  it('converges after a crash mid-reconcile and a restart: no duplicate hybrid connection or port, nothing orphaned', async () => {
    for (const id of ['crash-1', 'crash-2', 'crash-3']) await world.addLocation(id, TWO_SERVICES);
    const pools = [DEFAULT_POOL, { name: 'tiny', firstPort: 30000, lastPort: 30002, allow: ['10.0.0.0/8'] }];
    let n = 0;
    const crashing = world.startController(
      { pools },
      {
        beforeAction: (a) => {
          // Crash in the middle of the twin stage: some twins written, others not.
          if (a.kind.startsWith('write') && ++n > 3) throw new Error('simulated crash');
        },
      },
    );
    await expect(crashing.reconcileNow()).rejects.toThrow('simulated crash');
    await crashing.stop();
    const names = await world.hybridConnectionNames();
    expect(names).toEqual(expect.arrayContaining(['hrf-crash-1', 'hrf-crash-2', 'hrf-crash-3']));

    const restarted = world.startController({ pools });
    expect((await restarted.reconcileNow()).outcome).toBe('converged');
    expect(await world.hybridConnectionNames()).toEqual(names);
    const gw1 = routesOf(await world.desired('gw-1', 'relay-gateway'));
    expect(routesOf(await world.desired('gw-2', 'relay-gateway'))).toEqual(gw1);
    const ports = Object.values(gw1).map((r) => r.port);
    expect(new Set(ports).size).toBe(ports.length);
    for (const id of ['crash-1', 'crash-2', 'crash-3']) {
      const status = (await world.tags(id)).relayStatus as { ports: Record<string, number> };
      expect(status.ports).toEqual({ panel: gw1[`${id}_panel`]!.port, sql: gw1[`${id}_sql`]!.port });
    }
    // Every hybrid connection in the namespace belongs to a live location.
    expect(await world.hybridConnectionNames()).toEqual(
      ['aachen', 'berlin', 'crash-1', 'crash-2', 'crash-3', 'quito', 'tiny-a', 'tiny-b'].map(
        (l) => `hrf-${l}`,
      ),
    );
    await restarted.stop();
  });
});
