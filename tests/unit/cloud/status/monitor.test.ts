import { FleetMonitor } from '../../../../cloud/src/status/monitor';
import { StatusError } from '../../../../cloud/src/status/errors';
import type { FleetReading } from '../../../../cloud/src/status/source';
import type { FleetDocument } from '../../../../cloud/src/status/view-types';
import { fixtureReading, type FixtureOptions } from '../../../support/status-fixtures';

/** A source that returns the queued readings (or throws the queued errors) in order. */
function queueSource(items: (FleetReading | Error)[]) {
  return {
    read: async () => {
      const next = items.shift();
      if (!next) throw new Error('no more readings');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const sql = (accepted: number, bytes: number, active = 0): FixtureOptions => ({
  plantSql: { accepted, bytesFromClients: bytes, bytesToClients: bytes, active },
});

describe('FleetMonitor', () => {
  it('turns polls into per-bucket figures and emits a document after each poll', async () => {
    let now = 600_000;
    const monitor = new FleetMonitor({
      source: queueSource([
        fixtureReading(sql(10, 1000)),
        fixtureReading(sql(12, 1500, 1)),
        fixtureReading(sql(15, 2500)),
      ]),
      pollIntervalMs: 1000,
      bucketMs: 60_000,
      historyMs: 180_000,
      nowMs: () => now,
    });
    const documents: FleetDocument[] = [];
    monitor.on('update', (d) => documents.push(d));
    await monitor.pollOnce(); // baseline
    now += 30_000;
    await monitor.pollOnce(); // same bucket: +2 connections, +1000 bytes
    now += 60_000;
    await monitor.pollOnce(); // next bucket: +3, +2000
    expect(documents).toHaveLength(3);
    const doc = monitor.document();
    expect(doc.source).toMatchObject({ ok: true, lastSuccessAtMs: now });
    expect(doc.history.buckets.map((b) => [b.startMs, b.locations['plant-7']?.bytes ?? 0])).toEqual([
      [540_000, 0],
      [600_000, 1000],
      [660_000, 2000],
    ]);
    expect(doc.history.hourByLocation['plant-7']).toEqual({
      bytes: 3000,
      errors: 0,
      connections: 5,
      peakActive: 1,
    });
    expect(doc.history.chartedLocations).toEqual(['plant-7']); // the others had no traffic;
  });

  it('keeps the last good data when a read fails, and says so', async () => {
    const monitor = new FleetMonitor({
      source: queueSource([
        fixtureReading(),
        new StatusError('STATUS_SOURCE_FAILED', 'IoT Hub query failed: 503', true, 503),
      ]),
      pollIntervalMs: 1000,
      bucketMs: 60_000,
      historyMs: 3_600_000,
      nowMs: () => 1_000_000,
    });
    await monitor.pollOnce();
    await monitor.pollOnce();
    const doc = monitor.document();
    expect(doc.source).toEqual({
      ok: false,
      lastSuccessAtMs: 1_000_000,
      lastAttemptAtMs: 1_000_000,
      error: { code: 'STATUS_SOURCE_FAILED', message: 'IoT Hub query failed: 503' },
    });
    expect(doc.snapshot?.locations.map((l) => l.id)).toContain('plant-7');
  });

  it('never overlaps reads: a second pollOnce joins the one under way', async () => {
    let reads = 0;
    let release!: () => void;
    const monitor = new FleetMonitor({
      source: {
        read: () => {
          reads++;
          return new Promise<FleetReading>((resolve) => (release = () => resolve(fixtureReading())));
        },
      },
      pollIntervalMs: 1000,
      bucketMs: 60_000,
      historyMs: 3_600_000,
    });
    const a = monitor.pollOnce();
    const b = monitor.pollOnce();
    release();
    await Promise.all([a, b]);
    expect(reads).toBe(1);
  });

  it('stops without waiting forever for a read that hangs', async () => {
    const monitor = new FleetMonitor({
      source: { read: () => new Promise<FleetReading>(() => undefined) },
      pollIntervalMs: 1000,
      bucketMs: 60_000,
      historyMs: 3_600_000,
    });
    monitor.start();
    await monitor.stop(50);
    expect(monitor.document().source.ok).toBe(false);
  });
});
