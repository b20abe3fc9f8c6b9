import { HubBudget, retryAfterMs } from '../../../../cloud/src/azure/hub-budget';
import { hubLimits, parseHubBudgetFlags } from '../../../../cloud/src/azure/hub-throttles';
import { TokenBucket, type LimiterClock } from '../../../../cloud/src/azure/token-bucket';

// Virtual time: a wait moves the clock forward at once, so limiter schedules are exact and instant.
function virtualClock(): LimiterClock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: (ms: number) => {
      clock.t += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

function throttled(retryAfter?: string): Error {
  return Object.assign(new Error('ThrottlingException'), {
    response: { statusCode: 429, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } },
  });
}

describe('IoT Hub throttles', () => {
  it('are the published per-minute numbers for S1, S2 and S3', () => {
    expect(hubLimits('S1', 1)).toEqual({
      query: 20,
      twinRead: 6000,
      twinUpdate: 3000,
      registry: 100,
      configuration: 20,
    });
    // S2: the higher of the floor and the per-unit rate.
    expect(hubLimits('S2', 5).twinRead).toBe(6000);
    expect(hubLimits('S2', 20).twinRead).toBe(12_000);
    expect(hubLimits('S3', 2)).toEqual({
      query: 2000,
      twinRead: 60_000,
      twinUpdate: 30_000,
      registry: 10_000,
      configuration: 40,
    });
  });

  it('parses --iothub-tier and --iothub-units, refusing what they cannot mean', () => {
    const problems: string[] = [];
    expect(parseHubBudgetFlags(undefined, undefined, problems)).toBeUndefined();
    expect(parseHubBudgetFlags('s1', undefined, problems)).toEqual({ tier: 'S1', units: 1 });
    expect(parseHubBudgetFlags('S3', '4', problems)).toEqual({ tier: 'S3', units: 4 });
    expect(problems).toEqual([]);
    expect(parseHubBudgetFlags('S9', '0', problems)).toBeUndefined();
    expect(parseHubBudgetFlags(undefined, '2', problems)).toBeUndefined();
    expect(problems).toEqual([
      '--iothub-tier: "S9" is not one of F1, B1, B2, B3, S1, S2, S3',
      '--iothub-units: "0" is not a whole number of units >= 1',
      '--iothub-units needs --iothub-tier (e.g. --iothub-tier S1)',
    ]);
  });
});

describe('TokenBucket', () => {
  it('spends its burst at once, then one token per 1/rate, in arrival order', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(60, 2, clock);
    const waited = await Promise.all([0, 1, 2, 3].map(() => bucket.take()));
    expect(waited).toEqual([0, 0, 1000, 2000]);
  });

  it('holds every taker through a pause', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(600, 10, clock);
    bucket.pause(5000);
    await bucket.take();
    expect(clock.now()).toBe(5000);
    // The pause emptied the bucket: the next token is a full interval later.
    await bucket.take();
    expect(clock.now()).toBe(5100);
  });
});

describe('HubBudget', () => {
  it('keeps every 60 s window under the S1 limit however many calls are queued', async () => {
    const clock = virtualClock();
    const budget = new HubBudget({ tier: 'S1', units: 1 }, clock);
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, () => budget.run('query', async () => at.push(clock.now()))),
    );
    for (const start of at)
      expect(at.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(20);
    const query = budget.use().find((u) => u.kind === 'query');
    expect(query).toMatchObject({ limitPerMinute: 20, budgetPerMinute: 18, calls: 50, throttled: 0 });
    expect(query?.peakPerMinute).toBeLessThanOrEqual(20);
  });

  it('waits as long as Retry-After says, then the call succeeds', async () => {
    const clock = virtualClock();
    const seen: Array<[string, number, number]> = [];
    const metric: string[] = [];
    const budget = new HubBudget(
      { tier: 'S1', units: 1 },
      clock,
      () => 0.5,
      (k, w, a) => seen.push([k, w, a]),
      (k, outcome) => metric.push(`${k}:${outcome}`),
    );
    let calls = 0;
    const result = await budget.run('twinUpdate', async () => {
      calls++;
      if (calls === 1) throw throttled('7');
      return 'written';
    });
    expect(result).toBe('written');
    expect(clock.now()).toBeGreaterThanOrEqual(7000);
    expect(seen).toEqual([['twinUpdate', 7000, 1]]);
    expect(metric).toEqual(['twinUpdate:sent', 'twinUpdate:throttled', 'twinUpdate:sent']);
    expect(budget.use().find((u) => u.kind === 'twinUpdate')).toMatchObject({ calls: 2, throttled: 1 });
  });

  it('backs off exponentially with jitter when the 429 gives no hint', async () => {
    const clock = virtualClock();
    const waits: number[] = [];
    const budget = new HubBudget(
      { tier: 'S1', units: 1 },
      clock,
      () => 0.5,
      (_k, w) => waits.push(w),
    );
    let calls = 0;
    await budget.run('twinRead', async () => {
      if (++calls <= 3) throw throttled();
      return undefined;
    });
    expect(waits).toEqual([500, 1000, 2000]);
  });

  it('passes other errors through at once and gives up on a 429 that never ends', async () => {
    const clock = virtualClock();
    const budget = new HubBudget({ tier: 'S1', units: 1 }, clock, () => 1);
    const notFound = Object.assign(new Error('gone'), { response: { statusCode: 404, headers: {} } });
    let calls = 0;
    await expect(
      budget.run('twinRead', async () => {
        calls++;
        throw notFound;
      }),
    ).rejects.toBe(notFound);
    expect(calls).toBe(1);
    await expect(budget.run('registry', () => Promise.reject(throttled('1')))).rejects.toThrow(
      'ThrottlingException',
    );
    expect(budget.use().find((u) => u.kind === 'registry')).toMatchObject({ calls: 8, throttled: 7 });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(throttled('2.5'))).toBe(2500);
    expect(retryAfterMs(throttled(new Date(11_000).toUTCString()), 1000)).toBe(10_000);
    expect(retryAfterMs(throttled())).toBeUndefined();
    expect(retryAfterMs(new Error('plain'))).toBeUndefined();
  });
});
