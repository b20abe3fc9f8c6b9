import pino from 'pino';
import type { JsonObject } from '../../../../cloud/src/model/json';
import { KeyCache } from '../../../../cloud/src/reconcile/key-cache';
import { reconcileOnce, type ReconcileContext } from '../../../../cloud/src/reconcile/reconcile';
import type { ControllerSettings } from '../../../../cloud/src/settings';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';

const silent = pino({ level: 'silent' });

function fleet(locations = ['berlin', 'paris', 'rome']): { twins: FakeTwins; relay: FakeRelay } {
  const twins = new FakeTwins();
  for (const id of locations) {
    twins.addDevice(id, {
      relay: {
        role: 'location',
        services: { sql: { target: '10.0.0.5:1433' }, panel: { target: '10.0.0.6:80' } },
      },
    });
    twins.addModule(id, 'relay-forwarder');
  }
  for (const gw of ['gw-1', 'gw-2']) {
    twins.addDevice(gw, { relay: { role: 'gateway', pool: 'default' } });
    twins.addModule(gw, 'relay-gateway', { schemaVersion: 1, drainTimeoutMs: 1000 });
  }
  return { twins, relay: new FakeRelay() };
}

function context(
  twins: FakeTwins,
  relay: FakeRelay,
  extra: Partial<ReconcileContext> & { settings?: ControllerSettings } = {},
): ReconcileContext {
  return {
    twins,
    relay,
    settings: testSettings(),
    keyCache: new KeyCache(600_000),
    logger: silent,
    namespaceHost: () => relay.namespaceHost(),
    nowMs: () => Date.UTC(2025, 0, 1),
    concurrency: 4,
    maxPasses: 8,
    shouldStop: () => undefined,
    ...extra,
  };
}

const routesOf = (twins: FakeTwins, gw: string) =>
  (twins.module(gw, 'relay-gateway')!.desired.routes ?? {}) as Record<string, JsonObject>;
const portsOf = (twins: FakeTwins, gw: string) => Object.values(routesOf(twins, gw)).map((r) => r.port);

describe('reconcileOnce (in-memory IoT Hub and ARM)', () => {
  it('converges a fleet from nothing in three stages, and a second reconcile changes nothing', async () => {
    const { twins, relay } = fleet();
    const first = await reconcileOnce(context(twins, relay));
    expect(first).toMatchObject({ outcome: 'converged', stages: ['arm', 'twins', 'done'], actionsFailed: 0 });
    expect([...relay.hybridConnections.keys()].sort()).toEqual(['hrf-berlin', 'hrf-paris', 'hrf-rome']);
    for (const hc of relay.hybridConnections.values()) {
      expect(Object.fromEntries([...hc.rules].map(([n, r]) => [n, r.rights]))).toEqual({
        listen: ['Listen'],
        send: ['Send'],
      });
    }
    expect(portsOf(twins, 'gw-1').sort()).toEqual([20000, 20001, 20002, 20003, 20004, 20005]);
    expect(routesOf(twins, 'gw-2')).toEqual(routesOf(twins, 'gw-1'));
    expect(twins.module('gw-1', 'relay-gateway')!.desired.drainTimeoutMs).toBe(1000);
    expect(twins.device('paris')!.tags.relayStatus).toMatchObject({
      state: 'ok',
      ports: { panel: 20002, sql: 20003 },
    });

    const writesBefore = twins.calls.get('patchModuleDesired');
    const second = await reconcileOnce(context(twins, relay, { keyCache: new KeyCache(600_000) }));
    expect(second).toMatchObject({ outcome: 'converged', stages: ['done'], actionsDone: 0 });
    expect(twins.calls.get('patchModuleDesired')).toBe(writesBefore);
    expect(relay.calls.get('primaryKey')).toBe(6);
  });

  it('finishes a reconcile that crashed after any number of actions, with no duplicate hybrid connection or port', async () => {
    const reference = fleet();
    const total = (await reconcileOnce(context(reference.twins, reference.relay))).actionsDone;
    expect(total).toBeGreaterThan(20);
    for (let crashAfter = 1; crashAfter < total; crashAfter++) {
      const { twins, relay } = fleet();
      let n = 0;
      const crash = () => {
        if (++n > crashAfter) throw new Error(`crash after ${crashAfter} actions`);
      };
      await expect(reconcileOnce(context(twins, relay, { beforeAction: crash }))).rejects.toThrow(
        'crash after',
      );
      // A fresh replica: no key cache, nothing remembered.
      const after = await reconcileOnce(context(twins, relay, { keyCache: new KeyCache(600_000) }));
      expect(after.outcome).toBe('converged');
      expect([...relay.hybridConnections.keys()].sort()).toEqual(['hrf-berlin', 'hrf-paris', 'hrf-rome']);
      const ports = portsOf(twins, 'gw-1');
      expect(new Set(ports).size).toBe(6);
      expect(routesOf(twins, 'gw-1')).toEqual(routesOf(reference.twins, 'gw-1'));
      expect(routesOf(twins, 'gw-2')).toEqual(routesOf(twins, 'gw-1'));
    }
  });

  it('re-reads a twin changed under it (412) and writes again on the fresh etag', async () => {
    const { twins, relay } = fleet(['berlin']);
    let touched = false;
    const result = await reconcileOnce(
      context(twins, relay, {
        beforeAction: (a) => {
          if (a.kind === 'writeForwarderTwin' && !touched) {
            touched = true;
            twins.touch('berlin', 'relay-forwarder'); // the module reported something meanwhile
          }
        },
      }),
    );
    expect(result).toMatchObject({ outcome: 'converged', etagConflicts: 1 });
    expect(twins.calls.get('getModule')).toBe(1);
    expect(twins.module('berlin', 'relay-forwarder')!.desired.hybridConnections).toHaveProperty('hrf-berlin');
  });

  it('reports an ARM failure on the affected location only, and recovers on the next reconcile', async () => {
    const { twins, relay } = fleet(['berlin']);
    relay.failing.add('createHybridConnection');
    const failed = await reconcileOnce(context(twins, relay));
    expect(failed.outcome).toBe('incomplete');
    expect(twins.device('berlin')!.tags.relayStatus).toMatchObject({
      state: 'error',
      problems: { ARM_FAILED: expect.stringContaining('createHybridConnection') },
    });
    relay.failing.clear();
    const fixed = await reconcileOnce(context(twins, relay));
    expect(fixed.outcome).toBe('converged');
    expect(twins.device('berlin')!.tags.relayStatus).toMatchObject({ state: 'ok' });
    expect(twins.device('berlin')!.tags.relayStatus).not.toHaveProperty('problems');
  });

  it('stops between actions when asked, leaving nothing running', async () => {
    const { twins, relay } = fleet();
    let stop: Error | undefined;
    const ctx = context(twins, relay, {
      concurrency: 1,
      shouldStop: () => stop,
      beforeAction: () => {
        stop = new Error('stopping');
      },
    });
    await expect(reconcileOnce(ctx)).rejects.toThrow('stopping');
    expect(relay.calls.get('createHybridConnection')).toBe(1);
  });
});
