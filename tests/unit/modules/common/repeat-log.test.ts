import pino from 'pino';
import { RepeatLog } from '../../../../modules/common/src/repeat-log';

describe('RepeatLog', () => {
  let lines: Array<Record<string, unknown>>;
  let log: RepeatLog;

  beforeEach(() => {
    jest.useFakeTimers();
    lines = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    log = new RepeatLog(logger, { intervalMs: 1_000 });
  });

  afterEach(() => {
    log.close();
    jest.useRealTimers();
  });

  it('writes the first occurrence at once and one line per key per interval after it', () => {
    for (let i = 0; i < 5_000; i++) log.record('warn', 'a', { routeId: 'a', n: i }, 'client refused');
    log.record('debug', 'b', { routeId: 'b' }, 'client refused');
    expect(lines.map((l) => [l.routeId, l.count])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    jest.advanceTimersByTime(1_000);
    // 'b' had nothing new: no line for it. 'a' carries the other 4,999 and the latest fields.
    expect(lines.slice(2)).toEqual([expect.objectContaining({ routeId: 'a', n: 4_999, count: 4_999 })]);
    expect(lines[2]!.intervalMs).toBe(1_000);
  });

  it('forgets a key quiet for a whole interval, so its next occurrence is written at once again', () => {
    log.record('warn', 'a', { routeId: 'a' }, 'x');
    jest.advanceTimersByTime(2_000);
    log.record('warn', 'a', { routeId: 'a' }, 'x');
    expect(lines.map((l) => l.count)).toEqual([1, 1]);
    expect(jest.getTimerCount()).toBe(1);
    log.record('warn', 'a', { routeId: 'a' }, 'x');
    log.close();
    expect(lines.map((l) => l.count)).toEqual([1, 1, 1]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
