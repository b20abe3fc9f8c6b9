import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/**
 * The per-device key of a symmetric-key group enrollment: `base64(HMAC-SHA256(base64decode(groupKey),
 * registrationId))`, as DPS and IoT Edge's `config.toml` define it.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}

/** A new ID scope in DPS's shape: `0ne` followed by eight upper-case hex digits. */
export function generateIdScope(): string {
  return `0ne${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** A new opaque etag (DPS etags are base64 of a quoted identifier). */
export function newEtag(): string {
  return Buffer.from(`"${randomUUID()}"`).toString('base64');
}

/** An operation id shaped like the service's (`{n}.{16 hex}.{uuid}`). */
export function newOperationId(): string {
  return `5.${randomBytes(8).toString('hex')}.${randomUUID()}`;
}

// "A case-insensitive string (up to 128 characters long) of alphanumeric characters plus the special
// characters '-', '.', '_', ':'. The last character must be alphanumeric or dash." (DPS docs, registration ID)
const ID_PATTERN = /^[A-Za-z0-9._:-]{0,127}[A-Za-z0-9-]$/;

/** True when `id` is a valid registration ID or enrollment group ID. */
export function isValidDpsId(id: string): boolean {
  return ID_PATTERN.test(id);
}
