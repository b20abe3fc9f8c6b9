import { restartDelayMs, shouldRestart } from '../../../../sandbox/src/edge-agent/restart-policy';

const clean = { code: 0, signal: null };
const crash = { code: 3, signal: null };
const killed = { code: null, signal: 'SIGKILL' as const };

describe('restart policy', () => {
  it.each([
    ['never', [false, false, false]],
    ['on-failure', [false, true, true]],
    ['on-unhealthy', [false, true, true]],
    ['always', [true, true, true]],
  ] as const)('%s restarts after a clean exit / a crash / a kill: %j', (policy, expected) => {
    expect([clean, crash, killed].map((exit) => shouldRestart(policy, exit))).toEqual(expected);
  });

  it('doubles the delay per failure in a row, capped', () => {
    const backoff = { initialDelayMs: 100, maxDelayMs: 1_000, stableAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 60].map((n) => restartDelayMs(backoff, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
});
