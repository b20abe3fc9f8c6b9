import { parseSasToken, verifySasToken } from '../../../../modules/common/src/hc/sas';
import {
  mintToken,
  tokenIsCurrent,
  tokenNotExpired,
  tokenRenewalDueAtMs,
} from '../../../../cloud/src/model/tokens';

const NOW = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const policy = { lifetimeMs: HOUR, renewMarginMs: HOUR / 2 };
const scope = {
  namespaceHost: 'ns.servicebus.windows.net',
  hybridConnection: 'hrf-berlin',
  rule: 'listen' as const,
};
const KEY = 'a-rule-key';

describe('controller tokens', () => {
  it('mints a token for exactly one hybrid connection and rule, valid for the lifetime', () => {
    const token = mintToken(scope, KEY, policy, NOW);
    const fields = parseSasToken(token);
    expect(fields).toMatchObject({
      resource: 'http://ns.servicebus.windows.net/hrf-berlin',
      keyName: 'listen',
    });
    expect(fields.expiresAtSec * 1000).toBe(NOW + HOUR);
    const check = verifySasToken(token, {
      resource: 'http://ns.servicebus.windows.net/hrf-berlin',
      keyFor: (name) => (name === 'listen' ? KEY : undefined),
      nowMs: NOW,
    });
    expect(check.ok).toBe(true);
  });

  it('keeps a token until less than half its lifetime remains', () => {
    const token = mintToken(scope, KEY, policy, NOW);
    expect(tokenIsCurrent(token, scope, policy, NOW)).toBe(true);
    expect(tokenIsCurrent(token, scope, policy, NOW + HOUR / 2 - 1000)).toBe(true);
    expect(tokenIsCurrent(token, scope, policy, NOW + HOUR / 2)).toBe(false);
    expect(tokenRenewalDueAtMs(token, policy)).toBe(NOW + HOUR / 2);
  });

  it('replaces tokens for another rule, entity or namespace, malformed ones, and ones longer-lived than the policy', () => {
    const token = mintToken(scope, KEY, policy, NOW);
    expect(tokenIsCurrent(token, { ...scope, rule: 'send' }, policy, NOW)).toBe(false);
    expect(tokenIsCurrent(token, { ...scope, hybridConnection: 'hrf-berlin2' }, policy, NOW)).toBe(false);
    expect(
      tokenIsCurrent(token, { ...scope, namespaceHost: 'other.servicebus.windows.net' }, policy, NOW),
    ).toBe(false);
    expect(tokenIsCurrent('SharedAccessSignature sr=x', scope, policy, NOW)).toBe(false);
    expect(tokenIsCurrent(undefined, scope, policy, NOW)).toBe(false);
    const dayLong = mintToken(scope, KEY, { ...policy, lifetimeMs: 24 * HOUR }, NOW);
    expect(tokenIsCurrent(dayLong, scope, policy, NOW)).toBe(false);
  });

  it('tells a stale-but-usable token from an expired one', () => {
    const token = mintToken(scope, KEY, policy, NOW);
    expect(tokenNotExpired(token, NOW + HOUR - 1000)).toBe(true);
    expect(tokenNotExpired(token, NOW + HOUR)).toBe(false);
    expect(tokenNotExpired(42, NOW)).toBe(false);
  });
});
