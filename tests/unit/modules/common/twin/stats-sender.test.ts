import pino from 'pino';
import { jsonByteLength } from '../../../../../modules/common/src/twin/json';
import type { ModuleConnection } from '../../../../../modules/common/src/twin/module-connection';
import { splitStats, StatsSender } from '../../../../../modules/common/src/twin/stats-sender';

describe('splitStats', () => {
  const entries = Array.from({ length: 500 }, (_, i) => ({
    route: `route-${i}`,
    hybridConnection: 'site-a',
    active: i,
  }));

  it('puts everything in one message when it fits', () => {
    const [only, ...rest] = splitStats({ header: { module: 'relay-gateway' }, entries }, 1_000_000, 3);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ module: 'relay-gateway', sequence: 3, part: 1, parts: 1 });
    expect(only!.entries).toHaveLength(500);
  });

  it('splits many entries into parts under the size bound, keeping every entry once and in order', () => {
    const bodies = splitStats({ header: { module: 'relay-gateway', location: 'x' }, entries }, 4_096, 1);
    expect(bodies.length).toBeGreaterThan(1);
    for (const [i, body] of bodies.entries()) {
      expect(jsonByteLength(body)).toBeLessThanOrEqual(4_096);
      expect(body).toMatchObject({
        module: 'relay-gateway',
        location: 'x',
        part: i + 1,
        parts: bodies.length,
      });
    }
    expect(bodies.flatMap((b) => b.entries as unknown[])).toEqual(entries);
  });

  it('sends one message with no entries when there are none', () => {
    expect(splitStats({ header: {}, entries: [] }, 100, 1)).toEqual([
      { sequence: 1, part: 1, parts: 1, entries: [] },
    ]);
  });
});

describe('StatsSender', () => {
  it('skips a round without an IoT Hub session (counters are totals: the next round carries them)', async () => {
    const connection = { client: undefined } as unknown as ModuleConnection;
    const collect = jest.fn(() => ({ header: {}, entries: [] }));
    const sender = new StatsSender({ connection, collect, logger: pino({ level: 'silent' }), intervalMs: 0 });
    await sender.sendNow();
    expect(sender.stats()).toEqual({ sent: 0, skipped: 1, failed: 0 });
    expect(collect).not.toHaveBeenCalled();
    sender.stop();
  });
});
