// Fencing: a reconcile run under a lease generation stamps it into every twin it writes, and stops — writing
// nothing more — as soon as a twin it is about to write carries a newer generation (a newer leader wrote it),
// whether it read that twin so or learnt it from a 412 on its write.
import pino from 'pino';
import { KeyCache } from '../../../../cloud/src/reconcile/key-cache';
import { reconcileOnce, type ReconcileContext } from '../../../../cloud/src/reconcile/reconcile';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';

function fleet(): { twins: FakeTwins; relay: FakeRelay } {
  const twins = new FakeTwins();
  for (const id of ['berlin', 'paris']) {
    twins.addDevice(id, { relay: { role: 'location', services: { sql: { target: '10.0.0.5:1433' } } } });
    twins.addModule(id, 'relay-forwarder');
  }
  twins.addDevice('gw-1', { relay: { role: 'gateway', pool: 'default' } });
  twins.addModule('gw-1', 'relay-gateway', { schemaVersion: 1 });
  return { twins, relay: new FakeRelay() };
}

function context(twins: FakeTwins, relay: FakeRelay, extra: Partial<ReconcileContext>): ReconcileContext {
  return {
    twins,
    relay,
    settings: testSettings(),
    keyCache: new KeyCache(600_000),
    logger: pino({ level: 'silent' }),
    namespaceHost: () => relay.namespaceHost(),
    nowMs: () => Date.UTC(2025, 0, 1),
    concurrency: 1,
    maxPasses: 8,
    shouldStop: () => undefined,
    ...extra,
  };
}

describe('fenced reconcile', () => {
  it('stamps its lease generation into every twin it writes', async () => {
    const { twins, relay } = fleet();
    const result = await reconcileOnce(context(twins, relay, { fenceGeneration: 4 }));
    expect(result.outcome).toBe('converged');
    for (const key of ['berlin/relay-forwarder', 'paris/relay-forwarder', 'gw-1/relay-gateway'])
      expect(twins.modules.get(key)!.tags).toEqual({ relayController: { generation: 4 } });
    expect(twins.device('berlin')!.tags.relayController).toEqual({ generation: 4 });
  });

  it('refuses to write a twin a newer generation wrote, and writes nothing after', async () => {
    const { twins, relay } = fleet();
    await reconcileOnce(context(twins, relay, { fenceGeneration: 4 }));
    // The newer leader (generation 5) wrote the gateway; a new location makes the deposed one want to write it.
    twins.touch('gw-1', 'relay-gateway', { relayController: { generation: 5 } });
    twins.addDevice('rome', { relay: { role: 'location', services: { sql: { target: '10.0.0.7:1433' } } } });
    twins.addModule('rome', 'relay-forwarder');
    const gatewayBefore = structuredClone(twins.modules.get('gw-1/relay-gateway')!.desired);
    const writesBefore = twins.calls.get('patchModuleDesired') ?? 0;
    await expect(reconcileOnce(context(twins, relay, { fenceGeneration: 4 }))).rejects.toMatchObject({
      code: 'CONTROLLER_FENCED',
    });
    expect(twins.modules.get('gw-1/relay-gateway')!.desired).toEqual(gatewayBefore);
    // The twin stage is where it stopped: of rome's forwarder and the gateway, at most the first one in order.
    expect((twins.calls.get('patchModuleDesired') ?? 0) - writesBefore).toBeLessThanOrEqual(1);
  });

  it('learns of the newer leader from a 412 on its write and stops at the re-read', async () => {
    const { twins, relay } = fleet();
    let raced = false;
    const ctx = context(twins, relay, {
      fenceGeneration: 4,
      beforeAction: (action) => {
        // Between this replica's read and its write, generation 5 writes the same twin.
        if (action.kind === 'writeGatewayTwin' && !raced) {
          raced = true;
          twins.touch('gw-1', 'relay-gateway', { relayController: { generation: 5 } });
        }
      },
    });
    await expect(reconcileOnce(ctx)).rejects.toMatchObject({ code: 'CONTROLLER_FENCED' });
    expect(raced).toBe(true);
    expect(twins.modules.get('gw-1/relay-gateway')!.desired).toEqual({ schemaVersion: 1 });
    expect(twins.modules.get('gw-1/relay-gateway')!.tags).toEqual({ relayController: { generation: 5 } });
  });

  it('writes a twin stamped with an older generation (the previous leader) and restamps it', async () => {
    const { twins, relay } = fleet();
    twins.touch('gw-1', 'relay-gateway', { relayController: { generation: 3 } });
    expect((await reconcileOnce(context(twins, relay, { fenceGeneration: 4 }))).outcome).toBe('converged');
    expect(twins.modules.get('gw-1/relay-gateway')!.tags).toEqual({ relayController: { generation: 4 } });
  });
});
