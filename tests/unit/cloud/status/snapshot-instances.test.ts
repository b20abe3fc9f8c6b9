// The status view over a gateway device with several relay-gateway instances (relay-gateway, relay-gateway-2):
// every instance's routes reach their locations with the module that carries them, and the device's card counts
// them all.
import { buildSnapshot } from '../../../../cloud/src/status/snapshot';
import { FIXTURE_NOW_MS, fixtureReading } from '../../../support/status-fixtures';

const OPTIONS = { forwarderModuleId: 'relay-forwarder', gatewayModuleId: 'relay-gateway' };

describe('buildSnapshot with several relay-gateway instances on one device', () => {
  const one = buildSnapshot(fixtureReading(), OPTIONS, FIXTURE_NOW_MS);
  const two = buildSnapshot(fixtureReading({ secondInstance: {} }), OPTIONS, FIXTURE_NOW_MS);

  it("shows a route of the second instance on its location, naming the module (for the page's actions)", () => {
    const depot = two.snapshot.locations.find((l) => l.id === 'depot')!;
    expect(depot.services[0]!.routes).toEqual([
      { gateway: 'gw-1', module: 'relay-gateway-2', route: 'depot_api', status: 'listening', port: 20002 },
    ]);
    const plant = two.snapshot.locations.find((l) => l.id === 'plant-7')!;
    expect(plant.services[0]!.routes[0]).not.toHaveProperty('module');
  });

  it('keeps one card per gateway device with every instance counted, and the same totals and counters', () => {
    expect(two.snapshot.gateways).toHaveLength(1);
    const [card] = two.snapshot.gateways;
    const [before] = one.snapshot.gateways;
    expect(card).toMatchObject({
      deviceId: 'gw-1',
      connected: true,
      version: '0.1.0',
      routes: before!.routes,
      listeningRoutes: before!.listeningRoutes,
      connections: { active: 3, max: 10000 },
    });
    expect(two.snapshot.totals).toEqual({ ...one.snapshot.totals, activeConnections: 3 });
    expect(two.counters.map((c) => c.key).sort()).toEqual(one.counters.map((c) => c.key).sort());
  });

  it('says the device is not connected while one of its instances is not', () => {
    const down = buildSnapshot(
      fixtureReading({ secondInstance: { state: 'Disconnected' } }),
      OPTIONS,
      FIXTURE_NOW_MS,
    );
    expect(down.snapshot.gateways[0]!.connected).toBe(false);
  });
});
