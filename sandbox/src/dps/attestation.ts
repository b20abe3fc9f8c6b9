import { parseSasToken, signatureMatches } from '../iothub/sas';
import { DpsError } from './errors';
import type { EnrollmentGroupRecord } from './enrollments';
import { deriveDeviceKey } from './keys';

/** A device's registration request as authenticated: its group and the key pair derived for it. */
export interface AttestedDevice {
  readonly registrationId: string;
  readonly group: EnrollmentGroupRecord;
  readonly deviceKeys: { readonly primaryKey: string; readonly secondaryKey: string };
}

/** Options of attestSymmetricKey. */
export interface AttestOptions {
  readonly idScope: string;
  readonly registrationId: string;
  /** The SAS token (`Authorization` header, or the MQTT password). */
  readonly token: string | undefined;
  readonly groups: readonly EnrollmentGroupRecord[];
  readonly nowMs?: number;
}

/**
 * Symmetric-key attestation for group enrollments. The token must be for `{idScope}/registrations/{id}` and
 * unexpired; its signature tells the group: DPS tries each group's primary and secondary key, derived for this
 * registration ID, since a device never names its group. Disabled groups are matched too (the caller
 * reports them as `disabled`). Anything else is 401, without saying which check failed, as the service does.
 */
export function attestSymmetricKey(options: AttestOptions): AttestedDevice {
  const token = options.token ? parseSasToken(options.token.trim()) : undefined;
  if (!token) throw unauthorized();
  const nowSec = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (token.expirySec <= nowSec) throw unauthorized();
  const audience = `${options.idScope}/registrations/${options.registrationId}`.toLowerCase();
  if (token.resource.toLowerCase() !== audience) throw unauthorized();
  for (const group of options.groups) {
    const keys = group.attestation.symmetricKey;
    const deviceKeys = {
      primaryKey: deriveDeviceKey(keys.primaryKey, options.registrationId),
      secondaryKey: deriveDeviceKey(keys.secondaryKey, options.registrationId),
    };
    if (signatureMatches(token, [deviceKeys.primaryKey, deviceKeys.secondaryKey]))
      return { registrationId: options.registrationId, group, deviceKeys };
  }
  throw unauthorized();
}

function unauthorized(): DpsError {
  return new DpsError('Unauthorized', 'Unauthorized');
}
