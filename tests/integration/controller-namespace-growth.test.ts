// Namespaces created through ARM: the controller, on the unmodified @azure/arm-relay over TLS against the sandbox
// ARM, fills its one configured namespace, creates a second (a long-running PUT it polls until Succeeded, each
// created namespace a sandbox relay of its own) when the next location finds no room, places that location there,
// and after a restart finds the created namespace again by its tag instead of creating another.
import type { RelayNamespace } from '@azure/arm-relay';
import type { JsonObject } from '../../cloud/src/model/json';
import type { ControllerSettingsInput } from '../../cloud/src/settings';
import { CREATED_BY_TAG } from '../../cloud/src/adapters/arm-namespace-provisioner';
import { startControllerWorld, type ControllerWorld } from '../support/controller-world';

jest.setTimeout(120_000);

describe('controller: Relay namespaces created through ARM when every namespace is full', () => {
  let world: ControllerWorld;
  // The configured namespace takes two hybrid connections; the controller may create two more namespaces.
  const settings: Partial<ControllerSettingsInput> = {
    controllerId: 'growth-test',
    namespaces: [{ name: 'sandbox-relay', maxHybridConnections: 2 }],
    namespaceGrowth: { prefix: 'fleet-grown', maxCount: 2, region: 'westeurope' },
  };

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
  });

  afterAll(async () => {
    await world.close();
  });

  const namespacesInArm = async (): Promise<RelayNamespace[]> => {
    const all: RelayNamespace[] = [];
    for await (const ns of world.relayApi.namespaces.listByResourceGroup(world.arm.resourceGroup))
      all.push(ns);
    return all;
  };
  const statusOf = async (deviceId: string) => (await world.tags(deviceId)).relayStatus as JsonObject;
  const forwarderHost = async (deviceId: string): Promise<unknown> => {
    const desired = await world.desired(deviceId, 'relay-forwarder');
    return (desired.hybridConnections as Record<string, JsonObject>)[`hrf-${deviceId}`]?.namespace;
  };

  it('creates a second namespace for the location the first has no room for, and places it there', async () => {
    await world.addLocation('site-a', { sql: '10.0.0.1:1433' });
    await world.addLocation('site-b', { sql: '10.0.0.2:1433' });
    const controller = world.startController(settings);
    const first = await controller.reconcileNow();
    expect(first.outcome).toBe('converged');
    // Nothing refused: nothing created.
    expect((await namespacesInArm()).map((n) => n.name)).toEqual(['sandbox-relay']);

    await world.addLocation('site-c', { sql: '10.0.0.3:1433' });
    const grown = await controller.reconcileNow();
    expect(grown.outcome).toBe('converged');
    const inArm = await namespacesInArm();
    expect(inArm.map((n) => [n.name, n.provisioningState, n.sku?.name, n.location])).toEqual([
      ['sandbox-relay', 'Succeeded', 'Standard', 'westeurope'],
      ['fleet-grown-1', 'Succeeded', 'Standard', 'westeurope'],
    ]);
    expect(inArm[1]!.tags).toEqual({ [CREATED_BY_TAG]: 'growth-test' });
    expect(await statusOf('site-c')).toMatchObject({ state: 'ok', namespace: 'fleet-grown-1' });
    // The forwarder listens at the created namespace's own data plane, the gateway sends there.
    const grownHost = new URL(inArm[1]!.serviceBusEndpoint!).host;
    expect(grownHost).not.toBe(world.relay.namespace);
    expect(await forwarderHost('site-c')).toBe(grownHost);
    const gateway = await world.desired('gw-1', 'relay-gateway');
    expect((gateway.hybridConnections as Record<string, JsonObject>)['hrf-site-c']?.namespace).toBe(
      grownHost,
    );
    const hcs: string[] = [];
    for await (const hc of world.relayApi.hybridConnections.listByNamespace(
      world.arm.resourceGroup,
      'fleet-grown-1',
    ))
      hcs.push(hc.name!);
    expect(hcs).toEqual(['hrf-site-c']);
    expect(grown.namespaces.map((n) => [n.name, n.hybridConnections, n.locations])).toEqual([
      ['sandbox-relay', 2, 2],
      ['fleet-grown-1', 1, 1],
    ]);
    // The first two stayed where they were.
    expect(await statusOf('site-a')).toMatchObject({ namespace: 'sandbox-relay' });
    expect(await forwarderHost('site-b')).toBe(world.relay.namespace);
    await controller.stop();
  });

  it('a restarted controller finds the created namespace by its tag: it creates none and places the next location there', async () => {
    const restarted = world.startController(settings);
    await world.addLocation('site-d', { sql: '10.0.0.4:1433' });
    const result = await restarted.reconcileNow();
    expect(result.outcome).toBe('converged');
    expect((await namespacesInArm()).map((n) => n.name)).toEqual(['sandbox-relay', 'fleet-grown-1']);
    expect(await statusOf('site-d')).toMatchObject({ state: 'ok', namespace: 'fleet-grown-1' });
    expect(await statusOf('site-c')).toMatchObject({ state: 'ok', namespace: 'fleet-grown-1' });
    expect(result.actionsDone).toBeGreaterThan(0);
    await restarted.stop();
  });

  it('with the maximum reached, a newcomer is refused with NAMESPACE_CAPACITY and nothing more is created', async () => {
    const capped = world.startController({
      ...settings,
      namespaceGrowth: { prefix: 'fleet-grown', maxCount: 1, region: 'westeurope', maxHybridConnections: 2 },
    });
    await world.addLocation('site-e', { sql: '10.0.0.5:1433' });
    const result = await capped.reconcileNow();
    expect(result.outcome).toBe('converged');
    expect((await namespacesInArm()).map((n) => n.name)).toEqual(['sandbox-relay', 'fleet-grown-1']);
    const status = await statusOf('site-e');
    expect(status).toMatchObject({ state: 'error' });
    expect((status.problems as JsonObject).NAMESPACE_CAPACITY).toMatch(/no Relay namespace has room/);
    await capped.stop();
  });
});
