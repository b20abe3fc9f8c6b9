import { createHmac } from 'node:crypto';
import {
  createSasToken,
  parseSasToken,
  relayResourceUri,
  resourceCovers,
  sasTokenExpiresAtMs,
  verifySasToken,
} from '../../../../../modules/common/src/hc/sas';
import { isRelayError } from '../../../../../modules/common/src/hc/errors';

const NOW_MS = Date.UTC(2030, 0, 1);
const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA==';
const RESOURCE = 'http://contoso.servicebus.windows.net/hyco';
const keys: Record<string, string> = { listen: KEY };
const keyFor = (name: string): string | undefined => keys[name];

function token(
  overrides: { resource?: string; keyName?: string; key?: string; lifetimeMs?: number } = {},
): string {
  return createSasToken({
    resource: overrides.resource ?? RESOURCE,
    keyName: overrides.keyName ?? 'listen',
    key: overrides.key ?? KEY,
    lifetimeMs: overrides.lifetimeMs ?? 3_600_000,
    nowMs: NOW_MS,
  });
}

describe('createSasToken', () => {
  it('signs enc(uri) + "\\n" + expiry with HMAC-SHA256 as the Relay SAS documentation specifies', () => {
    const text = token();
    const expiry = NOW_MS / 1000 + 3600;
    const expectedSig = createHmac('sha256', KEY)
      .update(`${encodeURIComponent(RESOURCE)}\n${expiry}`)
      .digest('base64');
    expect(text).toBe(
      `SharedAccessSignature sr=${encodeURIComponent(RESOURCE)}&sig=${encodeURIComponent(expectedSig)}` +
        `&se=${expiry}&skn=listen`,
    );
    expect(sasTokenExpiresAtMs(text)).toBe(NOW_MS + 3_600_000);
  });

  it('round-trips through parse and verify', () => {
    const text = token();
    expect(parseSasToken(text)).toEqual({
      resource: RESOURCE,
      expiresAtSec: NOW_MS / 1000 + 3600,
      keyName: 'listen',
      signature: expect.any(String),
    });
    const result = verifySasToken(text, { resource: RESOURCE, keyFor, nowMs: NOW_MS });
    expect(result.ok).toBe(true);
  });

  it('a namespace token grants every entity below the namespace', () => {
    const text = token({ resource: relayResourceUri('contoso.servicebus.windows.net') });
    expect(verifySasToken(text, { resource: RESOURCE, keyFor, nowMs: NOW_MS }).ok).toBe(true);
  });

  it('compares resources without regard to scheme, case or trailing slash', () => {
    const text = token({ resource: 'sb://CONTOSO.servicebus.windows.net/Hyco/' });
    expect(verifySasToken(text, { resource: RESOURCE, keyFor, nowMs: NOW_MS }).ok).toBe(true);
  });
});

describe('verifySasToken rejections', () => {
  const verify = (text: string, resource = RESOURCE, nowMs = NOW_MS) =>
    verifySasToken(text, { resource, keyFor, nowMs });

  it.each([
    ['no prefix', 'sr=a&sig=b&se=1&skn=c'],
    ['missing sr', 'SharedAccessSignature sig=b&se=1&skn=c'],
    ['missing sig', 'SharedAccessSignature sr=a&se=1&skn=c'],
    ['missing se', 'SharedAccessSignature sr=a&sig=b&skn=c'],
    ['missing skn', 'SharedAccessSignature sr=a&sig=b&se=1'],
    ['non-integer expiry', 'SharedAccessSignature sr=a&sig=b&se=soon&skn=c'],
    ['bad percent-encoding', 'SharedAccessSignature sr=%E0%A4%A&sig=b&se=1&skn=c'],
    ['field without =', 'SharedAccessSignature sr&sig=b&se=1&skn=c'],
    ['empty', ''],
  ])('malformed: %s', (_name, text) => {
    expect(verify(text)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('unknown rule name', () => {
    expect(verify(token({ keyName: 'nobody' }))).toMatchObject({ ok: false, reason: 'unknown-key' });
  });

  it('signed with another key', () => {
    expect(verify(token({ key: 'other-key' }))).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('tampered expiry', () => {
    const text = token().replace(/se=(\d+)/, (_m, se: string) => `se=${Number(se) + 3600}`);
    expect(verify(text)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('tampered resource', () => {
    const text = token().replace(encodeURIComponent('/hyco'), encodeURIComponent('/other'));
    expect(verify(text, 'http://contoso.servicebus.windows.net/other')).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('tampered signature of the same length', () => {
    const text = token().replace(/sig=([^&])/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect(verify(text)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('expired, including exactly at expiry', () => {
    const text = token({ lifetimeMs: 60_000 });
    expect(verify(text, RESOURCE, NOW_MS + 60_000)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verify(text, RESOURCE, NOW_MS + 59_000).ok).toBe(true);
  });

  it('token for another entity, including one whose name merely starts the same', () => {
    expect(verify(token(), 'http://contoso.servicebus.windows.net/other')).toMatchObject({
      ok: false,
      reason: 'wrong-resource',
    });
    expect(verify(token(), 'http://contoso.servicebus.windows.net/hyco2')).toMatchObject({
      ok: false,
      reason: 'wrong-resource',
    });
    expect(verify(token(), 'http://fabrikam.servicebus.windows.net/hyco')).toMatchObject({
      ok: false,
      reason: 'wrong-resource',
    });
  });

  it('parseSasToken throws a typed, non-retryable RELAY_BAD_TOKEN', () => {
    let caught: unknown;
    try {
      parseSasToken('Bearer abc');
    } catch (err) {
      caught = err;
    }
    expect(isRelayError(caught, 'RELAY_BAD_TOKEN')).toBe(true);
    expect((caught as { retryable: boolean }).retryable).toBe(false);
  });
});

describe('resourceCovers', () => {
  it.each([
    ['http://ns/a', 'http://ns/a', true],
    ['http://ns/a', 'http://ns/a/b', true],
    ['http://ns', 'http://ns/a', true],
    ['http://ns/a', 'http://ns/ab', false],
    ['http://ns/a/b', 'http://ns/a', false],
  ])('%s covers %s: %s', (granted, requested, expected) => {
    expect(resourceCovers(granted, requested)).toBe(expected);
  });
});
