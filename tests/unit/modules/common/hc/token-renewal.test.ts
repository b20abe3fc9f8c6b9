import { MAX_TIMER_DELAY_MS, renewDelayMs } from '../../../../../modules/common/src/hc/token-renewal';

const MIN = 60_000;

describe('renewDelayMs', () => {
  it('renews at 80% of a one-hour token (48 min), which is earlier than 5 min before expiry', () => {
    expect(renewDelayMs(60 * MIN, 5 * MIN)).toBe(48 * MIN);
  });

  it('takes whichever of 80% and 5 min before expiry comes first', () => {
    // 2-hour token: 80% = 96 min, 5 min before = 115 min → 96.
    expect(renewDelayMs(120 * MIN, 5 * MIN)).toBe(96 * MIN);
    // 20-minute token: 80% = 16 min, 5 min before = 15 min → 15.
    expect(renewDelayMs(20 * MIN, 5 * MIN)).toBe(15 * MIN);
  });

  it('falls back to the ratio when the whole lifetime is shorter than the margin', () => {
    expect(renewDelayMs(2 * MIN, 5 * MIN)).toBe(96_000);
    expect(renewDelayMs(3_000, 5 * MIN)).toBe(2_400);
  });

  it('never arms a timer Node would fire at once, nor a hot loop', () => {
    expect(renewDelayMs(365 * 24 * 60 * MIN, 5 * MIN)).toBe(MAX_TIMER_DELAY_MS);
    expect(renewDelayMs(10, 5 * MIN)).toBe(100);
    expect(renewDelayMs(-5_000, 5 * MIN)).toBe(100);
  });
});
