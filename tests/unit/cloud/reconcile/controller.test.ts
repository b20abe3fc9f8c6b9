import pino from 'pino';
import { FleetController } from '../../../../cloud/src/reconcile/controller';
import type { ReconcileResult } from '../../../../cloud/src/reconcile/reconcile';
import { FakeRelay, FakeTwins } from '../../../support/controller-fakes';
import { testSettings } from '../../../support/controller-fixtures';
import { createTestMetrics } from '../../../support/metrics';
import { RecordingTracer } from '../../../support/tracing';
import { waitFor } from '../../../support/tunnel-harness';

const silent = pino({ level: 'silent' });

function location(twins: FakeTwins, id: string): void {
  twins.addDevice(id, { relay: { role: 'location', services: { web: { target: '10.0.0.1:80' } } } });
  twins.addModule(id, 'relay-forwarder');
}

describe('FleetController loop', () => {
  it('reconciles at start, again when the change poll sees new relay tags, and records metrics and a span', async () => {
    const twins = new FakeTwins();
    const relay = new FakeRelay();
    location(twins, 'berlin');
    const metrics = createTestMetrics({ module: 'fleet-controller' });
    const tracer = new RecordingTracer();
    const controller = new FleetController({
      twins,
      relay,
      settings: testSettings(),
      logger: silent,
      metrics: metrics.metrics,
      tracer,
      intervalMs: 60_000,
      pollIntervalMs: 20,
    });
    const results: ReconcileResult[] = [];
    controller.on('reconciled', (r) => results.push(r));
    controller.start();
    await waitFor(() => results.length === 1, 'the first reconcile', 5_000);
    expect(relay.hybridConnections.has('hrf-berlin')).toBe(true);

    location(twins, 'paris');
    await waitFor(
      () => relay.hybridConnections.has('hrf-paris'),
      'the change poll to reconcile paris',
      5_000,
    );
    await controller.stop();
    const snapshot = await metrics.collect();
    expect(snapshot.histogram('reconcileDuration', { outcome: 'success' }).count).toBeGreaterThanOrEqual(2);
    expect(
      snapshot.value('reconcileActions', { action: 'create_hybrid_connection', location: 'paris' }),
    ).toBe(1);
    expect(snapshot.value('reconcileActions', { action: 'write_location_status', location: 'berlin' })).toBe(
      1,
    );
    expect(tracer.spans.filter((s) => s.name === 'reconcile').length).toBe(results.length);
    expect(tracer.spans[0]!.ended).toBe(true);
    await metrics.shutdown();
  });

  it('runs reconciles one at a time and folds requests made during one into a single next run', async () => {
    const twins = new FakeTwins();
    location(twins, 'berlin');
    // Hold the first reconcile in its first read, so the next requests arrive while it runs.
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = twins.queryDevices.bind(twins);
    let reads = 0;
    twins.queryDevices = async () => {
      if (++reads === 1) await gate;
      return original();
    };
    const controller = new FleetController({
      twins,
      relay: new FakeRelay(),
      settings: testSettings(),
      logger: silent,
    });
    const a = controller.reconcileNow();
    expect(controller.reconcileNow()).toBe(a); // not started yet: joins it
    await waitFor(() => reads === 1, 'the first reconcile to start');
    const [b, c] = [controller.reconcileNow(), controller.reconcileNow()];
    expect(b).toBe(c);
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.actionsDone).toBeGreaterThan(0);
    expect(rb.actionsDone).toBe(0);
    expect(reads).toBe(2);
    await controller.stop();
    await expect(controller.reconcileNow()).rejects.toMatchObject({ code: 'CONTROLLER_STOPPED' });
  });

  it('retries a reconcile that failed to read IoT Hub, and reports the failure', async () => {
    const twins = new FakeTwins();
    location(twins, 'berlin');
    let failNext = true;
    const original = twins.queryDevices.bind(twins);
    twins.queryDevices = async () => {
      if (failNext) {
        failNext = false;
        throw new Error('hub unreachable');
      }
      return original();
    };
    const controller = new FleetController({
      twins,
      relay: new FakeRelay(),
      settings: testSettings(),
      logger: silent,
      pollIntervalMs: 0,
      retryDelayMs: 10,
    });
    const failures: Error[] = [];
    const results: ReconcileResult[] = [];
    controller.on('reconcileFailed', (e) => failures.push(e));
    controller.on('reconciled', (r) => results.push(r));
    controller.start();
    await waitFor(() => results.length === 1, 'the retried reconcile', 5_000);
    expect(failures.map((e) => e.message)).toEqual(['hub unreachable']);
    expect(results[0]!.outcome).toBe('converged');
    await controller.stop();
  });
});
