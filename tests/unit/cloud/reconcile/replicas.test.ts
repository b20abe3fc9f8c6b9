// Redundant on-prem side: more than one forwarder device for one location. A device that claims an existing
// location id with the same services (or none) is admitted as a replica: its forwarder gets the same entry (hybrid
// connection, Listen token, services), the primary's status tag lists it and its own says whose replica it is; the
// gateways carry the location once. Different services stay DUPLICATE_LOCATION, and a location never gets more
// forwarders than the hybrid connection has listeners for (25).
import pino from 'pino';
import type { JsonObject } from '../../../../cloud/src/model/json';
import { KeyCache } from '../../../../cloud/src/reconcile/key-cache';
import { reconcileOnce, type ReconcileContext } from '../../../../cloud/src/reconcile/reconcile';
import type { ControllerSettings } from '../../../../cloud/src/settings';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';

const SERVICES = { sql: { target: '10.0.0.5:1433' }, web: { target: '10.0.0.6:80' } };

function fleet(devices: Record<string, JsonObject>): { twins: FakeTwins; relay: FakeRelay } {
  const twins = new FakeTwins();
  for (const [id, relay] of Object.entries(devices)) {
    twins.addDevice(id, { relay: { role: 'location', ...relay } });
    twins.addModule(id, 'relay-forwarder');
  }
  twins.addDevice('gw-1', { relay: { role: 'gateway', pool: 'default' } });
  twins.addModule('gw-1', 'relay-gateway', { schemaVersion: 1 });
  return { twins, relay: new FakeRelay() };
}

function context(
  twins: FakeTwins,
  relay: FakeRelay,
  settings: ControllerSettings = testSettings(),
): ReconcileContext {
  return {
    twins,
    relay,
    settings,
    keyCache: new KeyCache(600_000),
    logger: pino({ level: 'silent' }),
    namespaceHost: () => relay.namespaceHost(),
    nowMs: () => Date.UTC(2025, 0, 1),
    concurrency: 2,
    maxPasses: 8,
    shouldStop: () => undefined,
  };
}

const status = (twins: FakeTwins, id: string) => twins.device(id)!.tags.relayStatus as JsonObject;
const forwarderEntry = (twins: FakeTwins, id: string) =>
  (twins.modules.get(`${id}/relay-forwarder`)!.desired.hybridConnections as JsonObject)['hrf-plant'];

describe('location replicas', () => {
  it('admits a second device with the same services as a replica and writes both forwarders alike', async () => {
    const { twins, relay } = fleet({
      'plant-a': { location: 'plant', services: SERVICES },
      'plant-b': { location: 'plant', services: SERVICES },
      // Declares no services: takes the location's.
      'plant-c': { location: 'plant' },
    });
    const result = await reconcileOnce(context(twins, relay));
    expect(result.outcome).toBe('converged');
    expect([...relay.hybridConnections.keys()]).toEqual(['hrf-plant']);
    const entry = forwarderEntry(twins, 'plant-a') as JsonObject;
    expect(Object.keys(entry.services as JsonObject)).toEqual(['sql', 'web']);
    expect(forwarderEntry(twins, 'plant-b')).toEqual(entry);
    expect(forwarderEntry(twins, 'plant-c')).toEqual(entry);
    expect(status(twins, 'plant-a')).toMatchObject({ state: 'ok', replicas: ['plant-b', 'plant-c'] });
    expect(status(twins, 'plant-b')).toMatchObject({
      state: 'ok',
      location: 'plant',
      replicaOf: 'plant-a',
      ports: status(twins, 'plant-a').ports,
    });
    const routes = twins.modules.get('gw-1/relay-gateway')!.desired.routes as JsonObject;
    expect(Object.keys(routes)).toEqual(['plant_sql', 'plant_web']);
    // Converged means converged: nothing left to write.
    expect((await reconcileOnce(context(twins, relay))).actionsDone).toBe(0);
  });

  it('keeps the location and its ports on a replica when the primary device goes', async () => {
    const { twins, relay } = fleet({
      'plant-a': { location: 'plant', services: SERVICES },
      'plant-b': { location: 'plant', services: SERVICES },
    });
    await reconcileOnce(context(twins, relay));
    const ports = status(twins, 'plant-a').ports;
    twins.removeDevice('plant-a');
    expect((await reconcileOnce(context(twins, relay))).outcome).toBe('converged');
    expect(status(twins, 'plant-b')).toMatchObject({ state: 'ok', location: 'plant', ports });
    expect(status(twins, 'plant-b').replicaOf).toBeUndefined();
    expect(status(twins, 'plant-b').replicas).toBeUndefined();
    expect(forwarderEntry(twins, 'plant-b')).toBeDefined();
  });

  it('refuses a device with other services, and forwarders beyond the 25 listeners of a hybrid connection', async () => {
    const { twins, relay } = fleet({
      'plant-a': { location: 'plant', services: SERVICES },
      'plant-b': { location: 'plant', services: { sql: { target: '10.9.9.9:1433' } } },
      'plant-c': { location: 'plant' },
      'plant-d': { location: 'plant' },
    });
    // 10 listeners each: two forwarders (20) fit in 25, a third would not.
    await reconcileOnce(context(twins, relay, testSettings({ forwarderListeners: 10 })));
    expect(status(twins, 'plant-a').replicas).toEqual(['plant-c']);
    expect(status(twins, 'plant-b')).toMatchObject({ state: 'error' });
    expect((status(twins, 'plant-b').problems as JsonObject).DUPLICATE_LOCATION).toContain('other services');
    expect((status(twins, 'plant-d').problems as JsonObject).DUPLICATE_LOCATION).toContain('25 listeners');
    expect(twins.modules.get('plant-d/relay-forwarder')!.desired.hybridConnections).toEqual({});
  });
});
