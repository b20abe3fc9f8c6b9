import pino from 'pino';
import type { NamespaceProvisioner } from '../../../../cloud/src/adapters/arm-namespace-provisioner';
import type { JsonObject } from '../../../../cloud/src/model/json';
import type { CreatedNamespace } from '../../../../cloud/src/plan/namespace-growth';
import { FleetController } from '../../../../cloud/src/reconcile/controller';
import { NamespaceGrowth } from '../../../../cloud/src/reconcile/namespace-growth';
import type { ControllerSettings } from '../../../../cloud/src/settings';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';

// The controller loop with namespace growth over in-memory IoT Hub and ARM: the ARM adapter (list by tag, create)
// is a stand-in here; tests/integration/controller-namespace-growth.test.ts runs the real one against the sandbox.
class FakeProvisioner implements NamespaceProvisioner {
  readonly namespaces = new Map<string, { state: string; relay: FakeRelay }>();
  readonly ensured: string[] = [];
  listFails = false;
  ensureFails = false;

  async listCreated(): Promise<CreatedNamespace[]> {
    if (this.listFails) throw new Error('ARM unavailable');
    return [...this.namespaces].map(([name, n]) => ({ name, provisioningState: n.state }));
  }

  async ensure(name: string): Promise<void> {
    this.ensured.push(name);
    if (this.ensureFails) throw new Error('QuotaExceeded');
    this.namespaces.set(name, {
      state: 'Succeeded',
      relay: this.namespaces.get(name)?.relay ?? new FakeRelay(`${name}.servicebus.windows.net`),
    });
  }

  adminOf(name: string): FakeRelay {
    return this.namespaces.get(name)!.relay;
  }
}

const silent = pino({ level: 'silent' });

function setup(maxCount = 2) {
  const twins = new FakeTwins();
  twins.addDevice('gw-1', { relay: { role: 'gateway', pool: 'default' } });
  twins.addModule('gw-1', 'relay-gateway');
  const east = new FakeRelay('relay-east.servicebus.windows.net');
  const provisioner = new FakeProvisioner();
  const settings = testSettings({
    namespaces: [{ name: 'relay-east', maxHybridConnections: 1 }],
    namespaceGrowth: { prefix: 'fleet-grown', maxCount, region: 'westeurope' },
  } as unknown as Partial<ControllerSettings>);
  const namespaces = new Map([['relay-east', east]]);
  const growth = new NamespaceGrowth({ provisioner, settings, namespaces, logger: silent });
  const controller = new FleetController({
    twins,
    relay: east,
    namespaces,
    settings,
    logger: silent,
    pollIntervalMs: 0,
    growth,
  });
  const addLocation = (id: string) => {
    twins.addDevice(id, { relay: { role: 'location', services: { sql: { target: '10.0.0.5:1433' } } } });
    twins.addModule(id, 'relay-forwarder');
  };
  const status = (id: string) => twins.device(id)!.tags.relayStatus as JsonObject;
  return { twins, east, provisioner, growth, controller, addLocation, status };
}

describe('FleetController with namespace growth (in-memory)', () => {
  it('creates a namespace when a location is refused and places it there within the same reconcile', async () => {
    const w = setup();
    w.addLocation('a1');
    try {
      expect((await w.controller.reconcileNow()).outcome).toBe('converged');
      expect(w.provisioner.ensured).toEqual([]);
      w.addLocation('a2');
      const result = await w.controller.reconcileNow();
      expect(result.outcome).toBe('converged');
      expect(w.provisioner.ensured).toEqual(['fleet-grown-1']);
      expect(w.status('a2')).toMatchObject({ state: 'ok', namespace: 'fleet-grown-1' });
      expect([...w.provisioner.adminOf('fleet-grown-1').hybridConnections.keys()]).toEqual(['hrf-a2']);
      expect(result.namespaces.map((n) => [n.name, n.locations])).toEqual([
        ['relay-east', 1],
        ['fleet-grown-1', 1],
      ]);
      // Nothing more to do: the next reconcile creates nothing.
      await w.controller.reconcileNow();
      expect(w.provisioner.ensured).toEqual(['fleet-grown-1']);
    } finally {
      await w.controller.stop();
    }
  });

  it('leaves a location refused when creation fails, and tries again on the next reconcile', async () => {
    const w = setup();
    w.addLocation('a1');
    w.addLocation('a2');
    w.provisioner.ensureFails = true;
    try {
      const failed = await w.controller.reconcileNow();
      expect(w.provisioner.ensured).toEqual(['fleet-grown-1']);
      expect(failed.outcomes.get('a2')?.problems.map((p) => p.code)).toEqual(['NAMESPACE_CAPACITY']);
      w.provisioner.ensureFails = false;
      await w.controller.reconcileNow();
      expect(w.provisioner.ensured).toEqual(['fleet-grown-1', 'fleet-grown-1']);
      expect(w.status('a2')).toMatchObject({ state: 'ok', namespace: 'fleet-grown-1' });
    } finally {
      await w.controller.stop();
    }
  });

  it('keeps the created namespaces when ARM cannot list them, and refuses to reconcile without any list', async () => {
    const w = setup();
    w.provisioner.listFails = true;
    await expect(w.growth.view()).rejects.toThrow('ARM unavailable');
    w.provisioner.listFails = false;
    w.addLocation('a1');
    w.addLocation('a2');
    try {
      await w.controller.reconcileNow();
      w.provisioner.listFails = true;
      // With the last list, a2 stays where it is instead of being re-placed in a configured namespace.
      const result = await w.controller.reconcileNow();
      expect(result.outcome).toBe('converged');
      expect(w.status('a2')).toMatchObject({ namespace: 'fleet-grown-1' });
      expect(w.provisioner.ensured).toEqual(['fleet-grown-1']);
    } finally {
      await w.controller.stop();
    }
  });
});
