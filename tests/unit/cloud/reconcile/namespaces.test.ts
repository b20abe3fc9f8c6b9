import pino from 'pino';
import { parseSasToken } from '../../../../modules/common/src/hc/sas';
import type { JsonObject } from '../../../../cloud/src/model/json';
import type { NamespaceSettingsInput } from '../../../../cloud/src/namespace-settings';
import { FleetController } from '../../../../cloud/src/reconcile/controller';
import { KeyCache } from '../../../../cloud/src/reconcile/key-cache';
import { reconcileOnce, type ReconcileContext } from '../../../../cloud/src/reconcile/reconcile';
import type { ControllerSettings } from '../../../../cloud/src/settings';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';
import { createTestMetrics } from '../../../support/metrics';

const silent = pino({ level: 'silent' });
const EAST = 'relay-east.servicebus.windows.net';
const WEST = 'relay-west.servicebus.windows.net';

function world(locations: string[]) {
  const twins = new FakeTwins();
  for (const id of locations) addLocation(twins, id);
  twins.addDevice('gw-1', { relay: { role: 'gateway', pool: 'default' } });
  twins.addModule('gw-1', 'relay-gateway');
  const east = new FakeRelay(EAST);
  const west = new FakeRelay(WEST);
  return { twins, east, west };
}

function addLocation(twins: FakeTwins, id: string): void {
  twins.addDevice(id, { relay: { role: 'location', services: { sql: { target: '10.0.0.5:1433' } } } });
  twins.addModule(id, 'relay-forwarder');
}

function context(
  w: ReturnType<typeof world>,
  namespaces: NamespaceSettingsInput[] = [{ name: 'relay-east' }, { name: 'relay-west' }],
): ReconcileContext {
  return {
    twins: w.twins,
    relay: w.east,
    namespaces: new Map([
      ['relay-east', w.east],
      ['relay-west', w.west],
    ]),
    settings: testSettings({ namespaces } as unknown as Partial<ControllerSettings>, 100),
    keyCache: new KeyCache(600_000),
    logger: silent,
    namespaceHost: () => w.east.namespaceHost(),
    nowMs: () => Date.UTC(2025, 0, 1),
    concurrency: 4,
    maxPasses: 8,
    shouldStop: () => undefined,
  };
}

const entryOf = (doc: JsonObject, hc: string) => (doc.hybridConnections as Record<string, JsonObject>)[hc]!;
const statusOf = (twins: FakeTwins, id: string) => twins.device(id)!.tags.relayStatus as JsonObject;

describe('reconcileOnce with two Relay namespaces (in-memory IoT Hub and ARM)', () => {
  it('places locations in both, each side with its namespace endpoint and a token for it, and stays put', async () => {
    const w = world(['a1', 'a2', 'a3', 'a4']);
    const result = await reconcileOnce(context(w));
    expect(result).toMatchObject({ outcome: 'converged', actionsFailed: 0 });
    expect([...w.east.hybridConnections.keys()].sort()).toEqual(['hrf-a1', 'hrf-a3']);
    expect([...w.west.hybridConnections.keys()].sort()).toEqual(['hrf-a2', 'hrf-a4']);
    expect(result.namespaces.map((n) => [n.name, n.hybridConnections, n.locations])).toEqual([
      ['relay-east', 2, 2],
      ['relay-west', 2, 2],
    ]);

    const gateway = w.twins.module('gw-1', 'relay-gateway')!.desired;
    for (const [id, host] of [
      ['a1', EAST],
      ['a2', WEST],
    ] as const) {
      const forwarder = entryOf(w.twins.module(id, 'relay-forwarder')!.desired, `hrf-${id}`);
      expect(forwarder.namespace).toBe(host);
      expect(parseSasToken(forwarder.sasToken as string)).toMatchObject({
        keyName: 'listen',
        resource: `http://${host}/hrf-${id}`,
      });
      const send = entryOf(gateway, `hrf-${id}`);
      expect(send.namespace).toBe(host);
      expect(parseSasToken(send.sasToken as string)).toMatchObject({
        keyName: 'send',
        resource: `http://${host}/hrf-${id}`,
      });
      expect(statusOf(w.twins, id)).toMatchObject({ namespace: host === EAST ? 'relay-east' : 'relay-west' });
    }

    // A restarted controller (cold key cache) with a new location that sorts first changes nothing placed.
    addLocation(w.twins, 'a0');
    const again = await reconcileOnce(context(w));
    expect(again.outcome).toBe('converged');
    expect([...w.east.hybridConnections.keys()].sort()).toEqual(['hrf-a0', 'hrf-a1', 'hrf-a3']);
    expect([...w.west.hybridConnections.keys()].sort()).toEqual(['hrf-a2', 'hrf-a4']);
    const idle = await reconcileOnce(context(w));
    expect(idle).toMatchObject({ outcome: 'converged', actionsDone: 0 });
  });

  it('finishes a reconcile crashed after any number of actions: each location in exactly one namespace, balanced', async () => {
    const ids = ['a1', 'a2', 'a3', 'a4'];
    const reference = world(ids);
    const total = (await reconcileOnce(context(reference))).actionsDone;
    for (let crashAfter = 1; crashAfter < total; crashAfter++) {
      const w = world(ids);
      let n = 0;
      const crash = () => {
        if (++n > crashAfter) throw new Error(`crash after ${crashAfter} actions`);
      };
      await expect(reconcileOnce({ ...context(w), beforeAction: crash })).rejects.toThrow('crash after');
      // A fresh replica: no key cache, nothing remembered.
      expect((await reconcileOnce(context(w))).outcome).toBe('converged');
      const east = [...w.east.hybridConnections.keys()];
      const west = [...w.west.hybridConnections.keys()];
      expect([...east, ...west].sort()).toEqual(ids.map((id) => `hrf-${id}`));
      expect([east.length, west.length]).toEqual([2, 2]);
      for (const id of ids) {
        const host = east.includes(`hrf-${id}`) ? EAST : WEST;
        const entry = entryOf(w.twins.module(id, 'relay-forwarder')!.desired, `hrf-${id}`);
        expect(parseSasToken(entry.sasToken as string).resource).toBe(`http://${host}/hrf-${id}`);
      }
      expect((await reconcileOnce(context(w))).actionsDone).toBe(0);
    }
  });

  it('re-creates a lost hybrid connection where it was, even with the status tag lost too', async () => {
    const w = world(['a1', 'a2', 'a3', 'a4']);
    // Small limits, so hybrid-connection counts decide the balance.
    const limits = [
      { name: 'relay-east', maxHybridConnections: 10 },
      { name: 'relay-west', maxHybridConnections: 10 },
    ];
    await reconcileOnce(context(w, limits));
    expect(w.west.hybridConnections.has('hrf-a2')).toBe(true);
    // West fills up with someone else's hybrid connections: balancing alone would now pick east.
    await w.west.createHybridConnection('other-1', 'not ours');
    await w.west.createHybridConnection('other-2', 'not ours');
    // Someone deletes a2's hybrid connection, and a re-provisioning wipes its status tag.
    w.west.hybridConnections.delete('hrf-a2');
    w.twins.touch('a2', undefined, { relayStatus: null });
    const result = await reconcileOnce(context(w, limits));
    expect(result.outcome).toBe('converged');
    expect(w.west.hybridConnections.has('hrf-a2')).toBe(true);
    expect(w.east.hybridConnections.has('hrf-a2')).toBe(false);
    expect(statusOf(w.twins, 'a2')).toMatchObject({ namespace: 'relay-west', state: 'ok' });
  });

  it('refuses a location with NAMESPACE_CAPACITY when both are full, and serves it once a namespace has room', async () => {
    const w = world(['a1', 'a2', 'a3']);
    const full = [
      { name: 'relay-east', maxHybridConnections: 1 },
      { name: 'relay-west', maxHybridConnections: 1 },
    ];
    const result = await reconcileOnce(context(w, full));
    expect(result.outcome).toBe('converged');
    expect(w.east.hybridConnections.size + w.west.hybridConnections.size).toBe(2);
    const status = statusOf(w.twins, 'a3');
    expect(status).toMatchObject({ state: 'error', ports: {} });
    expect(status.problems).toHaveProperty('NAMESPACE_CAPACITY');
    expect(status).not.toHaveProperty('namespace');
    const routes = Object.keys((w.twins.module('gw-1', 'relay-gateway')!.desired.routes ?? {}) as JsonObject);
    expect(routes.sort()).toEqual(['a1_sql', 'a2_sql']);
    expect(w.twins.module('a3', 'relay-forwarder')!.desired.hybridConnections ?? {}).toEqual({});

    // More room in west: a3 goes there, the others stay.
    const roomier = [full[0]!, { name: 'relay-west', maxHybridConnections: 2 }];
    expect((await reconcileOnce(context(w, roomier))).outcome).toBe('converged');
    expect([...w.west.hybridConnections.keys()].sort()).toEqual(['hrf-a2', 'hrf-a3']);
    expect(statusOf(w.twins, 'a3')).toMatchObject({ namespace: 'relay-west', state: 'ok' });
  });

  it("deletes a removed location's hybrid connection from its own namespace only", async () => {
    const w = world(['a1', 'a2']);
    await reconcileOnce(context(w));
    // The same name in east, owned by us (left by a crash, say): it is not a2's and goes too.
    await w.east.createHybridConnection('hrf-a2', w.west.hybridConnections.get('hrf-a2')!.userMetadata!);
    expect((await reconcileOnce(context(w))).outcome).toBe('converged');
    expect(w.east.hybridConnections.has('hrf-a2')).toBe(false);
    expect(w.west.hybridConnections.has('hrf-a2')).toBe(true);
    w.twins.removeDevice('a2');
    expect((await reconcileOnce(context(w))).outcome).toBe('converged');
    expect(w.west.hybridConnections.has('hrf-a2')).toBe(false);
    expect(w.east.hybridConnections.has('hrf-a1')).toBe(true);
  });
});

describe('FleetController with two Relay namespaces', () => {
  it('reports each namespace use as gauges and in the reconcile line', async () => {
    const w = world(['a1', 'a2', 'a3']);
    const metrics = createTestMetrics({ module: 'fleet-controller' });
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const ctx = context(w);
    const controller = new FleetController({
      twins: w.twins,
      relay: w.east,
      namespaces: ctx.namespaces!,
      settings: ctx.settings,
      logger,
      metrics: metrics.metrics,
      pollIntervalMs: 0,
    });
    try {
      expect((await controller.reconcileNow()).outcome).toBe('converged');
      const snapshot = await metrics.collect();
      expect(snapshot.value('controller.namespace.hybrid_connections', { namespace: 'relay-east' })).toBe(2);
      expect(snapshot.value('controller.namespace.hybrid_connections', { namespace: 'relay-west' })).toBe(1);
      // 2 listeners + 1 route each.
      expect(snapshot.value('controller.namespace.connection_budget', { namespace: 'relay-east' })).toBe(6);
      const finished = lines.find((l) => l.msg === 'reconcile finished')!;
      expect(finished.namespaces).toEqual([
        { name: 'relay-east', hybridConnections: '2/10000', locations: 2, connectionBudget: '6/5000' },
        { name: 'relay-west', hybridConnections: '1/10000', locations: 1, connectionBudget: '3/5000' },
      ]);
    } finally {
      await controller.stop();
      await metrics.shutdown();
    }
  });
});
