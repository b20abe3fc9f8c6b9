import { randomBytes } from 'node:crypto';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import type { EnrollmentGroup } from 'azure-iot-provisioning-service/dist/interfaces';
import { describeSdkError, httpStatusOf, ProvisioningError } from '../errors';

/** The enrollment group every relay device registers through, unless `--group` names another. */
export const DEFAULT_ENROLLMENT_GROUP = 'relay-fleet';

/** What ensureEnrollmentGroup did. */
export type EnrollmentOutcome = 'created' | 'reused' | 'updated';

/** The group's primary key (to derive device keys from) and what was done; the key is never logged or printed. */
export interface EnsuredEnrollment {
  readonly groupId: string;
  readonly outcome: EnrollmentOutcome;
  readonly primaryKey: string;
}

/**
 * The settings the design depends on (see docs/provisioning.md): IoT Edge devices, and re-registration keeps the
 * twin (`migrateDeviceData`), because a location's tags are written once DPS has created the device and a device
 * that registers again must not lose them. No initial twin: a group's initial twin is shared by all its devices,
 * so per-location tags cannot live there.
 */
const REQUIRED = {
  capabilities: { iotEdge: true },
  reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
} as const;

/**
 * Creates the symmetric-key enrollment group (with new random keys) or reuses it, fixing the two settings above
 * with an etag-guarded update when they differ. A disabled group or one with another attestation type is an error:
 * an operator disabled it on purpose, or it is not ours.
 */
export async function ensureEnrollmentGroup(
  service: ProvisioningServiceClient,
  groupId: string,
): Promise<EnsuredEnrollment> {
  let existing: EnrollmentGroup | undefined;
  try {
    existing = (await service.getEnrollmentGroup(groupId)).responseBody;
  } catch (err) {
    if (httpStatusOf(err) !== 404) throw dpsError(`read enrollment group ${groupId}`, err);
  }
  let outcome: EnrollmentOutcome = 'reused';
  if (!existing) {
    await call(`create enrollment group ${groupId}`, () =>
      service.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: groupId,
        // Keys made here rather than left to the service: 64 random bytes, the length DPS generates itself.
        attestation: {
          type: 'symmetricKey',
          symmetricKey: { primaryKey: newGroupKey(), secondaryKey: newGroupKey() },
        },
        provisioningStatus: 'enabled',
        ...REQUIRED,
      }),
    );
    outcome = 'created';
  } else {
    if (existing.attestation?.type !== 'symmetricKey') {
      throw new ProvisioningError(
        'PROVISION_ENROLLMENT_CONFLICT',
        `enrollment group ${groupId} uses ${existing.attestation?.type ?? 'unknown'} attestation, not symmetric keys; pass --group to use another`,
        false,
      );
    }
    if (existing.provisioningStatus === 'disabled') {
      throw new ProvisioningError(
        'PROVISION_ENROLLMENT_CONFLICT',
        `enrollment group ${groupId} is disabled; enable it in DPS (or pass --group) to provision devices through it`,
        false,
      );
    }
    if (
      existing.capabilities?.iotEdge !== true ||
      existing.reprovisionPolicy?.migrateDeviceData !== true ||
      existing.reprovisionPolicy?.updateHubAssignment !== true
    ) {
      // The etag makes a concurrent edit fail (412) instead of being overwritten; the keys stay as they are.
      await call(`update enrollment group ${groupId}`, () =>
        service.createOrUpdateEnrollmentGroup({ ...existing, ...REQUIRED } as EnrollmentGroup),
      );
      outcome = 'updated';
    }
  }
  const attestation = await call(`read the keys of enrollment group ${groupId}`, () =>
    service.getEnrollmentGroupAttestationMechanism(groupId),
  );
  const primaryKey = attestation.responseBody.symmetricKey?.primaryKey;
  if (!primaryKey) {
    throw new ProvisioningError(
      'PROVISION_DPS_FAILED',
      `enrollment group ${groupId} returned no symmetric key`,
      true,
    );
  }
  return { groupId, outcome, primaryKey };
}

function newGroupKey(): string {
  return randomBytes(64).toString('base64');
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw dpsError(what, err);
  }
}

function dpsError(what: string, err: unknown): ProvisioningError {
  const status = httpStatusOf(err);
  if (status === 412)
    return new ProvisioningError(
      'PROVISION_CONCURRENT_CHANGE',
      `${what}: changed by someone else meanwhile; run again`,
      true,
      { cause: err },
    );
  if (status === 401 || status === 403)
    return new ProvisioningError(
      'PROVISION_CREDENTIAL_REFUSED',
      `${what}: ${describeSdkError(err)} — check --dps-connection-string / DPS_SERVICE_CONNECTION_STRING (a policy with enrollment write)`,
      false,
      { cause: err },
    );
  const retryable = status === undefined || status >= 500 || status === 429;
  return new ProvisioningError('PROVISION_DPS_FAILED', `${what}: ${describeSdkError(err)}`, retryable, {
    cause: err,
  });
}
