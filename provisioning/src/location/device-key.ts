import { createHmac } from 'node:crypto';

/**
 * The device key of a symmetric-key group enrollment: `base64(HMAC-SHA256(base64decode(groupKey), registrationId))`.
 * DPS checks a device's SAS token against exactly this key, and IoT Edge's `config.toml` takes it as the
 * attestation's `symmetric_key`. The group key itself never leaves the provisioning host.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}
