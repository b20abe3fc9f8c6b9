// The controller within IoT Hub's throttles: the sandbox hub counts every service call per throttle class over a
// short sliding window and answers 429 + Retry-After past its rates; the controller budgets its calls and waits
// as the hub asks. Rates are per 3 s window here (a minute in IoT Hub) so the test takes seconds.
import type { JsonObject } from '../../cloud/src/model/json';
import type { ControllerHandle } from '../../cloud/src/run-controller';
import { startControllerWorld, type ControllerWorld } from '../support/controller-world';

const WINDOW_MS = 3000;
const SERVICES = { panel: '10.0.0.9:443' };

async function converge(controller: ControllerHandle, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const result = await controller.reconcileNow();
    if (result.outcome === 'converged') return;
  }
  throw new Error(`not converged after ${rounds} reconciles`);
}

function routeNames(desired: JsonObject): string[] {
  return Object.keys((desired.routes ?? {}) as JsonObject).sort();
}

describe('fleet controller within IoT Hub throttles', () => {
  jest.setTimeout(240_000);
  let world: ControllerWorld;

  beforeAll(async () => {
    world = await startControllerWorld({ throttleWindowMs: WINDOW_MS });
    await world.addGateway('gw-1');
  });
  afterAll(async () => {
    await world?.close();
  });

  it('stays under the hub rates it was told: no 429 at all', async () => {
    for (const id of ['loc-a', 'loc-b', 'loc-c', 'loc-d']) await world.addLocation(id, SERVICES);
    // Hub: 4 twin updates / 4 twin reads / 3 queries / 4 registry calls per 3 s window (setRates forgets the setup
    // calls). Controller: told 40/min of each, which it spends at 90% with a burst of one — at most 2.8 per window.
    world.hub.serviceThrottle.setRates({ twinUpdate: 4, twinRead: 4, query: 3, registry: 4 });
    const before = world.hub.serviceThrottle.snapshot();
    const controller = world.startController(
      {},
      {
        hubBudget: {
          tier: 'S1',
          units: 1,
          limits: { twinUpdate: 40, twinRead: 40, query: 40, registry: 40 },
        },
      },
    );
    await converge(controller);
    world.hub.serviceThrottle.setRates({});

    const after = world.hub.serviceThrottle.snapshot();
    for (const kind of ['twinUpdate', 'twinRead', 'query', 'registry'] as const) {
      expect({ kind, throttled: after[kind].throttled - before[kind].throttled }).toEqual({
        kind,
        throttled: 0,
      });
    }
    // It did real work through the budget: every location's twins written, every call counted.
    expect(after.twinUpdate.calls - before.twinUpdate.calls).toBeGreaterThanOrEqual(5);
    const use = controller.hubBudgetUse();
    expect(use.every((u) => u.throttled === 0)).toBe(true);
    expect(use.find((u) => u.kind === 'twinUpdate')!.calls).toBe(
      after.twinUpdate.calls - before.twinUpdate.calls,
    );
    expect(routeNames(await world.desired('gw-1', 'relay-gateway'))).toEqual([
      'loc-a_panel',
      'loc-b_panel',
      'loc-c_panel',
      'loc-d_panel',
    ]);
    await controller.stop();
  });

  it('recovers from 429s when its budget is wrong for the hub, losing no work', async () => {
    for (const id of ['loc-e', 'loc-f', 'loc-g', 'loc-h']) await world.addLocation(id, SERVICES);
    // The controller believes it has a whole S1 hub (50 updates a second); the hub allows 2 updates per window.
    world.hub.serviceThrottle.setRates({ twinUpdate: 2 });
    const before = world.hub.serviceThrottle.snapshot();
    const controller = world.startController({}, { hubBudget: { tier: 'S1', units: 1 } });
    await converge(controller);
    world.hub.serviceThrottle.setRates({});

    const after = world.hub.serviceThrottle.snapshot();
    expect(after.twinUpdate.throttled - before.twinUpdate.throttled).toBeGreaterThan(0);
    expect(controller.hubBudgetUse().find((u) => u.kind === 'twinUpdate')!.throttled).toBeGreaterThan(0);
    // Every location written despite the refusals.
    expect(routeNames(await world.desired('gw-1', 'relay-gateway'))).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => `loc-${x}_panel`),
    );
    for (const id of ['loc-e', 'loc-f', 'loc-g', 'loc-h'])
      expect(
        Object.keys((await world.desired(id, 'relay-forwarder')).hybridConnections as JsonObject),
      ).toEqual([`hrf-${id}`]);
    await controller.stop();
  });
});
