import { isSendableCloseCode } from '../../../../sandbox/src/relay/frame-pump';
import {
  MAX_CLOSE_REASON_BYTES,
  sanitizeStatusDescription,
  truncateCloseReason,
  withTrackingId,
} from '../../../../sandbox/src/relay/http-response';
import { LATENCY_PROFILES, pickDelayMs, resolveLatencyProfile } from '../../../../sandbox/src/relay/latency';
import { TimerSet } from '../../../../sandbox/src/relay/timers';

describe('status descriptions and close reasons', () => {
  it('keeps reason phrases printable ASCII and bounded', () => {
    expect(sanitizeStatusDescription('bad\r\nInjected: header')).toBe('bad  Injected: header');
    expect(sanitizeStatusDescription('déjà vu')).toBe('d j  vu');
    expect(sanitizeStatusDescription('x'.repeat(2000))).toHaveLength(512);
    expect(sanitizeStatusDescription('\n')).toBe('Error');
  });

  it('adds a tracking id like the service does', () => {
    expect(withTrackingId('Not here.', 'ns:1', 'hc')).toMatch(
      /^Not here\. TrackingId:[0-9a-f-]{36}, SystemTracker:ns:1:HybridConnection:hc, Timestamp:\d{4}-/,
    );
  });

  it('cuts close reasons to 123 bytes without splitting a character', () => {
    const cut = truncateCloseReason('é'.repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(cut).toBe('é'.repeat(61));
  });
});

describe('close codes', () => {
  it.each([
    [1000, true],
    [1001, true],
    [1004, false],
    [1005, false],
    [1006, false],
    [1011, true],
    [1015, false],
    [2999, false],
    [3000, true],
    [4999, true],
    [5000, false],
  ])('%i is sendable: %p', (code, expected) => {
    expect(isSendableCloseCode(code)).toBe(expected);
  });
});

describe('latency profiles', () => {
  it('has no delay by default and service-like delays for azure', () => {
    expect(resolveLatencyProfile(undefined)).toBe(LATENCY_PROFILES.none);
    expect(resolveLatencyProfile('azure').tokenCheckMs).toEqual([20, 40]);
    expect(() => resolveLatencyProfile('mars' as 'none')).toThrow(/unknown latency profile/);
    expect(() => resolveLatencyProfile({ name: 'x', tokenCheckMs: [5, 1], rendezvousMs: [0, 0] })).toThrow(
      /tokenCheckMs/,
    );
  });

  it('draws delays within the range', () => {
    expect(pickDelayMs([20, 40], () => 0)).toBe(20);
    expect(pickDelayMs([20, 40], () => 0.999999)).toBe(40);
    expect(pickDelayMs([0, 0])).toBe(0);
  });
});

describe('TimerSet', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs, cancels, and clears every timer at once', () => {
    const timers = new TimerSet();
    const fired: string[] = [];
    timers.after(10, () => fired.push('a'));
    const cancel = timers.after(20, () => fired.push('b'));
    timers.after(30, () => fired.push('c'));
    cancel();
    jest.advanceTimersByTime(15);
    expect(fired).toEqual(['a']);
    expect(timers.size).toBe(1);
    timers.clearAll();
    jest.advanceTimersByTime(100);
    expect(fired).toEqual(['a']);
    timers.after(1, () => fired.push('late'));
    jest.advanceTimersByTime(10);
    expect(fired).toEqual(['a']);
  });

  it('clamps delays setTimeout cannot take', () => {
    const timers = new TimerSet();
    let fired = false;
    timers.after(Number.MAX_SAFE_INTEGER, () => (fired = true));
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toBe(true);
  });
});
