import {
  Backoff,
  backoffDelayMs,
  DEFAULT_BACKOFF_POLICY,
  nominalBackoffDelayMs,
  retry,
  sleep,
  type BackoffPolicy,
  type RetryInfo,
} from '../../../../../modules/common/src/hc/backoff';
import { RelayError, isRelayError } from '../../../../../modules/common/src/hc/errors';

const POLICY: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitterRatio: 0.5 };
const retryable = (): RelayError => new RelayError('RELAY_NO_LISTENER', 'no listener', true, 404);

/** Seeded PRNG (mulberry32) so jitter samples are reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('backoff schedule', () => {
  it('grows exponentially and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => nominalBackoffDelayMs(POLICY, n))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000, 1000,
    ]);
  });

  it('jitter only shortens: random 0 gives the nominal delay, random 1 the floor', () => {
    expect(backoffDelayMs(POLICY, 3, () => 0)).toBe(400);
    expect(backoffDelayMs(POLICY, 3, () => 1)).toBe(200);
    expect(backoffDelayMs(POLICY, 10, () => 0)).toBe(1000);
  });

  it('every jittered delay stays within [nominal × (1 − jitter), nominal] and never exceeds the cap', () => {
    const random = seededRandom(42);
    const seen = new Set<number>();
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      for (let i = 0; i < 50; i += 1) {
        const nominal = nominalBackoffDelayMs(POLICY, attempt);
        const delay = backoffDelayMs(POLICY, attempt, random);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.5));
        expect(delay).toBeLessThanOrEqual(nominal);
        expect(delay).toBeLessThanOrEqual(POLICY.maxDelayMs);
        if (attempt > 10) seen.add(delay);
      }
    }
    // At the cap, clients dropped together must still spread out rather than retry in lock-step.
    expect(seen.size).toBeGreaterThan(50);
  });

  it('clamps out-of-range jitter ratios and random values', () => {
    expect(backoffDelayMs({ ...POLICY, jitterRatio: 3 }, 1, () => 1)).toBe(0);
    expect(backoffDelayMs({ ...POLICY, jitterRatio: -1 }, 1, () => 1)).toBe(100);
    expect(backoffDelayMs(POLICY, 1, () => 7)).toBe(50);
  });

  it('the default policy is capped at 30 s', () => {
    expect(nominalBackoffDelayMs(DEFAULT_BACKOFF_POLICY, 1_000)).toBe(30_000);
  });

  it('Backoff walks the schedule and starts over after reset (a success)', () => {
    const backoff = new Backoff(POLICY, () => 0);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.attempt).toBe(3);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});

describe('retry with fake timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('waits along the schedule between attempts and returns the first success', async () => {
    const delays: number[] = [];
    let calls = 0;
    const done = retry(
      async () => {
        calls += 1;
        if (calls < 5) throw retryable();
        return 'ok';
      },
      { policy: POLICY, random: () => 0, onRetry: (info: RetryInfo) => delays.push(info.delayMs) },
    );
    // Nothing happens before each delay has fully elapsed.
    for (const expected of [100, 200, 400, 800]) {
      await jest.advanceTimersByTimeAsync(expected - 1);
      const before = calls;
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(before + 1);
    }
    await expect(done).resolves.toBe('ok');
    expect(delays).toEqual([100, 200, 400, 800]);
  });

  it('keeps delays capped however many attempts fail', async () => {
    const delays: number[] = [];
    let calls = 0;
    const done = retry(
      async () => {
        calls += 1;
        if (calls <= 12) throw retryable();
        return calls;
      },
      { policy: POLICY, random: () => 0, onRetry: (info) => delays.push(info.delayMs) },
    );
    await jest.advanceTimersByTimeAsync(20_000);
    await expect(done).resolves.toBe(13);
    expect(Math.max(...delays)).toBe(1000);
    expect(delays.slice(4)).toEqual(Array(8).fill(1000));
  });

  it('each retry() starts the schedule afresh (reset after success)', async () => {
    const delays: number[] = [];
    const failTwice = () => {
      let calls = 0;
      return async () => {
        calls += 1;
        if (calls <= 2) throw retryable();
        return calls;
      };
    };
    const options = {
      policy: POLICY,
      random: () => 0,
      onRetry: (info: RetryInfo) => delays.push(info.delayMs),
    };
    const first = retry(failTwice(), options);
    await jest.advanceTimersByTimeAsync(1_000);
    await first;
    const second = retry(failTwice(), options);
    await jest.advanceTimersByTimeAsync(1_000);
    await second;
    expect(delays).toEqual([100, 200, 100, 200]);
  });

  it('rethrows a non-retryable failure at once, without waiting', async () => {
    const fatal = new RelayError('RELAY_UNAUTHORIZED', 'bad token', false, 401);
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw fatal;
        },
        { policy: POLICY },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  it('stops after maxAttempts and rethrows the last failure', async () => {
    let calls = 0;
    const done = retry(
      async () => {
        calls += 1;
        throw retryable();
      },
      { policy: POLICY, maxAttempts: 3, random: () => 0 },
    );
    const outcome = expect(done).rejects.toMatchObject({ code: 'RELAY_NO_LISTENER' });
    await jest.advanceTimersByTimeAsync(10_000);
    await outcome;
    expect(calls).toBe(3);
  });

  it('keeps attempts inside maxElapsedMs, trimming the last wait to the window end', async () => {
    const startedAt = Date.now();
    const attemptsAt: number[] = [];
    const done = retry(
      async () => {
        attemptsAt.push(Date.now() - startedAt);
        throw retryable();
      },
      { policy: POLICY, maxElapsedMs: 1_000, random: () => 0 },
    );
    const outcome = expect(done).rejects.toMatchObject({ code: 'RELAY_NO_LISTENER' });
    await jest.advanceTimersByTimeAsync(5_000);
    await outcome;
    // 0, +100, +200, +400 = 700, then the 800 ms wait is trimmed to 300 so the last attempt lands at 1000.
    expect(attemptsAt).toEqual([0, 100, 300, 700, 1000]);
  });

  it('aborting during a wait rejects with RELAY_ABORTED and leaves no timer', async () => {
    const controller = new AbortController();
    const done = retry(
      async () => {
        throw retryable();
      },
      { policy: POLICY, signal: controller.signal },
    );
    const outcome = expect(done).rejects.toMatchObject({ code: 'RELAY_ABORTED', retryable: false });
    await jest.advanceTimersByTimeAsync(10);
    expect(jest.getTimerCount()).toBe(1);
    controller.abort(new Error('shutting down'));
    await outcome;
  });

  it('an already aborted signal means no attempt at all', async () => {
    const operation = jest.fn(async () => 1);
    const outcome = await retry(operation, { signal: AbortSignal.abort() }).catch((err: unknown) => err);
    expect(isRelayError(outcome, 'RELAY_ABORTED')).toBe(true);
    expect(operation).not.toHaveBeenCalled();
  });

  it('accepts an injected clock and sleep', async () => {
    let nowMs = 0;
    const slept: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls += 1;
        if (calls < 4) throw retryable();
        return 'done';
      },
      {
        policy: POLICY,
        random: () => 0,
        nowMs: () => nowMs,
        sleep: async (ms) => {
          slept.push(ms);
          nowMs += ms;
        },
        maxElapsedMs: 250,
      },
    ).catch((err: unknown) => err);
    // 100 + 150 (trimmed from 200) fill the 250 ms window; the fourth attempt never starts.
    expect(slept).toEqual([100, 150]);
    expect(calls).toBe(3);
    expect(isRelayError(result, 'RELAY_NO_LISTENER')).toBe(true);
  });

  it('sleep() resolves after its delay and removes its abort listener', async () => {
    const controller = new AbortController();
    let resolved = false;
    const done = sleep(500, controller.signal).then(() => (resolved = true));
    await jest.advanceTimersByTimeAsync(499);
    expect(resolved).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await done;
    expect(resolved).toBe(true);
    controller.abort();
  });
});
