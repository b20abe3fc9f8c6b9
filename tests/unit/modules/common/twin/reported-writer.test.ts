import pino from 'pino';
import type { JsonObject } from '../../../../../modules/common/src/twin/json';
import { ReportedWriter } from '../../../../../modules/common/src/twin/reported-writer';

describe('ReportedWriter', () => {
  let state: JsonObject;
  let sent: JsonObject[];
  let fail: boolean;
  let hang: boolean;
  let writer: ReportedWriter;

  beforeEach(() => {
    jest.useFakeTimers();
    state = { config: { version: 1 }, routes: { a: { status: 'listening', counters: { accepted: 0 } } } };
    sent = [];
    fail = false;
    hang = false;
    writer = new ReportedWriter({
      snapshot: () => structuredClone(state),
      send: (patch) => {
        if (fail) return Promise.reject(new Error('not connected'));
        if (hang) return new Promise<void>(() => undefined);
        sent.push(patch);
        return Promise.resolve();
      },
      logger: pino({ level: 'silent' }),
      debounceMs: 1_000,
      refreshIntervalMs: 60_000,
      sendTimeoutMs: 10_000,
    });
  });
  afterEach(() => {
    writer.stop();
    jest.useRealTimers();
  });

  it('sends nothing before the first resync (it does not know what IoT Hub holds)', async () => {
    writer.request();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([]);
  });

  it('diffs against what IoT Hub holds: stale entries from an earlier run are removed with null', async () => {
    writer.resync({ routes: { old: { status: 'listening' } }, config: { version: 1 } });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([{ routes: { old: null, a: { status: 'listening', counters: { accepted: 0 } } } }]);
  });

  it('coalesces every request within the window into one patch holding only what changed', async () => {
    writer.resync(structuredClone(state));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([]);
    for (let i = 1; i <= 100; i++) {
      (state.routes as any).a.counters.accepted = i; // eslint-disable-line @typescript-eslint/no-explicit-any
      writer.request();
      await jest.advanceTimersByTimeAsync(5);
    }
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([{ routes: { a: { counters: { accepted: 100 } } } }]);
  });

  it('picks counters up on the refresh period without any request', async () => {
    writer.resync(structuredClone(state));
    (state.routes as any).a.counters.accepted = 5; // eslint-disable-line @typescript-eslint/no-explicit-any
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(1);
    (state.routes as any).a.counters.accepted = 6; // eslint-disable-line @typescript-eslint/no-explicit-any
    await jest.advanceTimersByTimeAsync(59_000);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1_000 + 1_000);
    expect(sent).toEqual([
      { routes: { a: { counters: { accepted: 5 } } } },
      { routes: { a: { counters: { accepted: 6 } } } },
    ]);
  });

  it('after a failed patch, sends the whole difference again later (nothing is lost)', async () => {
    writer.resync(structuredClone(state));
    fail = true;
    state.config = { version: 2 };
    writer.request();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(writer.stats().failures).toBe(1);
    fail = false;
    state.config = { version: 3 };
    writer.request();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([{ config: { version: 3 } }]);
    expect(writer.stats()).toMatchObject({ patches: 1, failures: 1 });
  });

  it('gives up on a patch whose answer never comes (lost with the connection), and sends it again later', async () => {
    writer.resync(structuredClone(state));
    hang = true;
    state.config = { version: 2 };
    writer.request();
    await jest.advanceTimersByTimeAsync(1_000);
    writer.request(); // while the first is in flight: remembered, not sent in parallel
    await jest.advanceTimersByTimeAsync(10_000);
    expect(writer.stats().failures).toBe(1);
    hang = false;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([{ config: { version: 2 } }]);
  });

  it('a resync (new session) does not wait for a patch stuck on the old session', async () => {
    writer.resync(structuredClone(state));
    hang = true;
    state.config = { version: 2 };
    writer.request();
    await jest.advanceTimersByTimeAsync(1_000);
    hang = false;
    writer.resync({ config: { version: 1 } });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([
      { config: { version: 2 }, routes: { a: { status: 'listening', counters: { accepted: 0 } } } },
    ]);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(writer.stats()).toMatchObject({ patches: 1, failures: 0 });
  });

  it('sends nothing once stopped', async () => {
    writer.resync({});
    writer.stop();
    await jest.advanceTimersByTimeAsync(120_000);
    await writer.flush();
    expect(sent).toEqual([]);
  });

  it('stopped with a patch in flight: holds no timer, and its late failure logs nothing (the logger may be closed)', async () => {
    writer.stop();
    const warnings: string[] = [];
    let failLate: (err: Error) => void = () => undefined;
    const inFlight = new ReportedWriter({
      snapshot: () => structuredClone(state),
      send: () => new Promise<void>((_resolve, reject) => (failLate = reject)),
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }),
      debounceMs: 1_000,
      refreshIntervalMs: 60_000,
      sendTimeoutMs: 10_000,
    });
    inFlight.resync({});
    await jest.advanceTimersByTimeAsync(1_000);
    // The patch is in flight: its 10 s answer timer and the refresh period are the writer's timers.
    expect(jest.getTimerCount()).toBe(2);
    inFlight.stop();
    await jest.advanceTimersByTimeAsync(0);
    expect(jest.getTimerCount()).toBe(0);
    failLate(new Error('connection closed'));
    await jest.advanceTimersByTimeAsync(20_000);
    expect(warnings).toEqual([]);
    expect(inFlight.stats().failures).toBe(0);
  });
});
