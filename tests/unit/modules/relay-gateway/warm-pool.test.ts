import { silentLogger } from '../../../../modules/common/src/hc/logger';
import { WarmPool, type WarmOpen } from '../../../../modules/relay-gateway/src/warm-pool';

// The pool's sizing rule on its own (opening real connections is covered by the integration tests): nothing
// before the first client, one after it, more as the rate rises (within maxSize), none after a quiet spell.

const timing = { pingIntervalMs: 60_000, idleAfterMs: 1_000, rateWindowMs: 1_000 };
/** An open that never finishes: the pool's target is what is under test here, not its members. */
const pendingOpens: Array<(err: Error) => void> = [];
const neverOpens: WarmOpen = () => new Promise((_resolve, reject) => pendingOpens.push(reject));

afterEach(() => {
  for (const reject of pendingOpens.splice(0)) reject(new Error('test over'));
});

it('follows demand within maxSize and falls to 0 when clients stop coming', () => {
  const pool = new WarmPool(neverOpens, { maxSize: 3, maxIdleMs: 50_000 }, silentLogger, timing);
  try {
    const now = Date.now();
    expect(pool.target(now)).toBe(0);
    expect(pool.take()).toBeUndefined();
    expect(pool.target(now)).toBe(1);
    // One refill was started for that client, and no more while the target is 1.
    expect(pendingOpens).toHaveLength(1);
    // 200 clients in the 1 s window with a 50 ms open time: 10 arrive during one refill, capped at 3.
    for (let i = 0; i < 200; i++) pool.take();
    expect(pool.target(Date.now())).toBe(3);
    expect(pendingOpens).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ hits: 0, misses: 201, ready: 0 });
    expect(pool.target(Date.now() + timing.idleAfterMs + 1)).toBe(0);
  } finally {
    pool.close();
  }
});

it('holds nothing when maxSize is 0, and opens nothing after close', () => {
  const off = new WarmPool(neverOpens, { maxSize: 0, maxIdleMs: 50_000 }, silentLogger, timing);
  off.take();
  expect(off.target()).toBe(0);
  expect(pendingOpens).toHaveLength(0);
  off.close();
  const closed = new WarmPool(neverOpens, { maxSize: 2, maxIdleMs: 50_000 }, silentLogger, timing);
  closed.close();
  expect(closed.take()).toBeUndefined();
  expect(pendingOpens).toHaveLength(0);
});
