import { createHmac } from 'node:crypto';
import {
  createIotHubSasToken,
  generateSymmetricKey,
  isValidSymmetricKey,
  parseSasToken,
  signatureMatches,
} from '../../../../sandbox/src/iothub/sas';

describe('IoT Hub SAS tokens', () => {
  const key = Buffer.alloc(32, 1).toString('base64');

  it('signs with the base64-decoded key over the encoded resource and expiry', () => {
    const token = createIotHubSasToken('hub.example/devices/d1', key, 1700000000);
    const expected = createHmac('sha256', Buffer.alloc(32, 1))
      .update('hub.example%2Fdevices%2Fd1\n1700000000')
      .digest('base64');
    expect(token).toBe(
      `SharedAccessSignature sr=hub.example%2Fdevices%2Fd1&sig=${encodeURIComponent(expected)}&se=1700000000`,
    );
    const parsed = parseSasToken(token);
    expect(parsed).toMatchObject({ resource: 'hub.example/devices/d1', expirySec: 1700000000 });
    expect(parsed && signatureMatches(parsed, ['', key])).toBe(true);
    expect(parsed && signatureMatches(parsed, [generateSymmetricKey()])).toBe(false);
  });

  it('keeps the policy name and accepts an unencoded resource as the service SDK sends it', () => {
    const sig = encodeURIComponent(
      createHmac('sha256', Buffer.alloc(32, 1)).update('localhost:4443\n1800000000').digest('base64'),
    );
    const parsed = parseSasToken(
      `SharedAccessSignature sr=localhost:4443&sig=${sig}&se=1800000000&skn=iothubowner`,
    );
    expect(parsed).toMatchObject({ resource: 'localhost:4443', keyName: 'iothubowner' });
    expect(parsed && signatureMatches(parsed, [key])).toBe(true);
  });

  it.each(['', 'Bearer x', 'SharedAccessSignature sr=a&sig=b', 'SharedAccessSignature sr=a&sig=b&se=soon'])(
    'rejects malformed token %j',
    (token) => expect(parseSasToken(token)).toBeUndefined(),
  );

  it('validates keys as 16..64 bytes of base64', () => {
    expect(isValidSymmetricKey(generateSymmetricKey())).toBe(true);
    expect(isValidSymmetricKey(Buffer.alloc(8).toString('base64'))).toBe(false);
    expect(isValidSymmetricKey('not base64!')).toBe(false);
  });
});
