import { createHmac } from 'node:crypto';
import { attestSymmetricKey } from '../../../../sandbox/src/dps/attestation';
import { EnrollmentGroups } from '../../../../sandbox/src/dps/enrollments';
import { DpsError } from '../../../../sandbox/src/dps/errors';
import {
  deriveDeviceKey,
  generateIdScope,
  isValidDpsId,
  newOperationId,
} from '../../../../sandbox/src/dps/keys';
import { createIotHubSasToken } from '../../../../sandbox/src/iothub/sas';

const GROUP_KEY = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='; // 32 bytes of 0x07

describe('DPS keys and ids', () => {
  it('derives the device key as base64(HMAC-SHA256(base64decode(groupKey), registrationId))', () => {
    // Computed independently (Python hmac) for this fixture.
    expect(deriveDeviceKey(GROUP_KEY, 'site-1')).toBe('jmNGeHLF3m3VCFivFkXmKuZWICDcH75Qzd/RiqOWVWc=');
  });

  it('makes ID scopes and operation ids in the service shapes', () => {
    expect(generateIdScope()).toMatch(/^0ne[0-9A-F]{8}$/);
    expect(newOperationId()).toMatch(/^5\.[0-9a-f]{16}\.[0-9a-f-]{36}$/);
  });

  it.each([
    ['site-1', true],
    ['Site.A_b:c-', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['ends.', false],
    ['has space', false],
    ['', false],
  ])('registration id %s valid: %s', (id, valid) => {
    expect(isValidDpsId(id)).toBe(valid);
  });
});

describe('symmetric-key attestation', () => {
  const scope = '0ne00000001';
  const groups = new EnrollmentGroups();
  groups.put('g1', {
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY } },
  });
  const other = Buffer.alloc(32, 2).toString('base64');
  groups.put('g2', {
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: other, secondaryKey: other } },
  });
  const future = Math.floor(Date.now() / 1000) + 600;
  const token = (id: string, key: string, resource = `${scope}/registrations/${id}`, expiry = future) =>
    createIotHubSasToken(resource, key, expiry, 'registration');
  const attest = (id: string, t: string | undefined) =>
    attestSymmetricKey({ idScope: scope, registrationId: id, token: t, groups: groups.list() });

  it('finds the group whose derived key signed the token', () => {
    expect(attest('dev-1', token('dev-1', deriveDeviceKey(GROUP_KEY, 'dev-1'))).group.enrollmentGroupId).toBe(
      'g1',
    );
    const found = attest('dev-2', token('dev-2', deriveDeviceKey(other, 'dev-2')));
    expect(found.group.enrollmentGroupId).toBe('g2');
    expect(found.deviceKeys.primaryKey).toBe(deriveDeviceKey(other, 'dev-2'));
  });

  it('accepts the SDK form with a raw (not URL-encoded) sr', () => {
    const key = deriveDeviceKey(GROUP_KEY, 'dev-3');
    // azure-iot-common signs the raw resource and puts it in the token unencoded.
    const encoded = token('dev-3', key);
    const raw = encoded.replace(/sr=[^&]+/, `sr=${scope}/registrations/dev-3`);
    expect(() => attest('dev-3', raw)).toThrow(DpsError);
    const sig = createHmac('sha256', Buffer.from(key, 'base64'))
      .update(`${scope}/registrations/dev-3\n${future}`)
      .digest('base64');
    const sdkStyle = `SharedAccessSignature sr=${scope}/registrations/dev-3&sig=${encodeURIComponent(sig)}&skn=registration&se=${future}`;
    expect(attest('dev-3', sdkStyle).group.enrollmentGroupId).toBe('g1');
  });

  it.each([
    ['no token', undefined],
    ['not a SAS token', 'Bearer x'],
    ['the group key itself', token('dev-4', GROUP_KEY)],
    ['another registration', token('dev-5', deriveDeviceKey(GROUP_KEY, 'dev-5'))],
    ['another scope', token('dev-4', deriveDeviceKey(GROUP_KEY, 'dev-4'), '0ne99999999/registrations/dev-4')],
    ['an expired token', token('dev-4', deriveDeviceKey(GROUP_KEY, 'dev-4'), undefined, 1000)],
  ])('refuses %s with 401', (_what, t) => {
    try {
      attest('dev-4', t);
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toMatchObject({ status: 401, errorCode: 401000, message: 'Unauthorized' });
    }
  });
});
