import { resolveSettings } from '../../../cloud/src/settings';

const POOLS = [{ name: 'default', firstPort: 20000, lastPort: 20099, allow: ['0.0.0.0/0'] }];
const HOUR_MS = 3_600_000;

describe('controller token settings', () => {
  it('defaults to 48 h tokens renewed with 36 h left: a day of controller outage costs nothing', () => {
    const s = resolveSettings({ pools: POOLS });
    expect([s.tokenLifetimeMs, s.tokenRenewMarginMs]).toEqual([48 * HOUR_MS, 36 * HOUR_MS]);
  });

  it('takes the margin as a duration, as a fraction, or 3/4 of a given lifetime', () => {
    expect(resolveSettings({ pools: POOLS, tokenLifetimeMs: 8 * HOUR_MS }).tokenRenewMarginMs).toBe(
      6 * HOUR_MS,
    );
    expect(
      resolveSettings({ pools: POOLS, tokenLifetimeMs: 4 * HOUR_MS, renewBelowFraction: 0.5 })
        .tokenRenewMarginMs,
    ).toBe(2 * HOUR_MS);
    expect(
      resolveSettings({ pools: POOLS, tokenLifetimeMs: 4 * HOUR_MS, tokenRenewMarginMs: HOUR_MS })
        .tokenRenewMarginMs,
    ).toBe(HOUR_MS);
  });

  it('refuses a margin not below the lifetime, and a margin given twice', () => {
    expect(() =>
      resolveSettings({ pools: POOLS, tokenLifetimeMs: HOUR_MS, tokenRenewMarginMs: HOUR_MS }),
    ).toThrow('tokenRenewMarginMs must be above 0 and below tokenLifetimeMs');
    expect(() =>
      resolveSettings({ pools: POOLS, tokenRenewMarginMs: HOUR_MS, renewBelowFraction: 0.5 }),
    ).toThrow('not both');
  });
});

describe('gateway twin settings', () => {
  it('places newcomers within 24 KiB and keeps placed locations up to 30 KiB by default', () => {
    const s = resolveSettings({ pools: POOLS });
    expect([s.gatewayTwinTargetBytes, s.gatewayTwinMaxBytes]).toEqual([24 * 1024, 30 * 1024]);
  });

  it('refuses a twin target outside IoT Hub’s 32 KB and a gatewayModules count outside 1-64', () => {
    expect(() => resolveSettings({ pools: POOLS, gatewayTwinTargetBytes: 40_000 })).toThrow(
      'gatewayTwinTargetBytes must be 1024-32768',
    );
    for (const gatewayModules of [0, 65, 2.5])
      expect(() => resolveSettings({ pools: [{ ...POOLS[0]!, gatewayModules }] })).toThrow(
        'pool "default": gatewayModules must be an integer 1-64',
      );
    expect(
      resolveSettings({ pools: [{ ...POOLS[0]!, gatewayModules: 24 }] }).pools.get('default'),
    ).toMatchObject({
      gatewayModules: 24,
    });
  });
});
