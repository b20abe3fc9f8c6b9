import { deriveDeviceKey } from '../../../../provisioning/src/location/device-key';

describe('deriveDeviceKey', () => {
  it('is base64(HMAC-SHA256(base64decode(groupKey), registrationId)) (vector computed with openssl)', () => {
    // printf site-a | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707…07 (32 bytes) -binary | base64
    const groupKey = Buffer.alloc(32, 7).toString('base64');
    expect(deriveDeviceKey(groupKey, 'site-a')).toBe('v5ECkkYM2AWDo1Rtid3Z6sRpeeBJtlyYoP4EakxbIDQ=');
  });

  it('differs per registration id and per group key', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = Buffer.alloc(32, 2).toString('base64');
    expect(deriveDeviceKey(a, 'x')).not.toBe(deriveDeviceKey(a, 'y'));
    expect(deriveDeviceKey(a, 'x')).not.toBe(deriveDeviceKey(b, 'x'));
  });
});
