import { generateSymmetricKey, isValidSymmetricKey } from '../iothub/sas';
import { isJsonObject, type JsonObject } from '../iothub/json';
import { DpsError } from './errors';
import { isValidDpsId, newEtag } from './keys';

/** The twin a group's devices start with: tags and desired properties. */
export interface InitialTwin {
  tags?: JsonObject;
  properties?: { desired?: JsonObject };
}

/** A symmetric-key enrollment group as the service API shows it (API 2021-10-01 field names). */
export interface EnrollmentGroupRecord {
  enrollmentGroupId: string;
  attestation: { type: 'symmetricKey'; symmetricKey: { primaryKey: string; secondaryKey: string } };
  capabilities: { iotEdge: boolean };
  initialTwin?: InitialTwin;
  provisioningStatus: 'enabled' | 'disabled';
  reprovisionPolicy: { updateHubAssignment: boolean; migrateDeviceData: boolean };
  allocationPolicy: string;
  iotHubs: string[];
  iotHubHostName?: string;
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
}

/** Strips the quotes and weak marker an If-Match header may carry. */
export function unquoteEtag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/**
 * Enrollment groups with DPS's create-or-update rules: keys are generated when not given, `If-Match` must be
 * `*` or the current etag, and every change issues a new etag. Only symmetric-key attestation is served.
 */
export class EnrollmentGroups {
  private readonly groups = new Map<string, EnrollmentGroupRecord>();
  private readonly listeners = new Set<(id: string) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Calls `listener` after any change; returns the unsubscribe function. */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates or replaces a group from an API body; `created` tells which. */
  put(id: string, body: unknown, ifMatch?: string): { record: EnrollmentGroupRecord; created: boolean } {
    if (!isValidDpsId(id)) throw new DpsError('BadRequest', `enrollment group ID '${id}' is not valid`);
    if (!isJsonObject(body)) throw new DpsError('BadRequest', 'the enrollment group must be a JSON object');
    if (
      typeof body.enrollmentGroupId === 'string' &&
      body.enrollmentGroupId.toLowerCase() !== id.toLowerCase()
    )
      throw new DpsError('BadRequest', 'enrollmentGroupId in the body does not match the path');
    const existing = this.groups.get(id.toLowerCase());
    const expected = unquoteEtag(ifMatch);
    if (expected !== undefined && expected !== '*' && expected !== existing?.etag)
      throw new DpsError(
        'PreconditionFailed',
        `etag '${expected}' does not match the enrollment group's etag`,
      );
    const nowIso = this.now().toISOString();
    const record: EnrollmentGroupRecord = {
      enrollmentGroupId: existing?.enrollmentGroupId ?? id,
      attestation: attestationOf(body.attestation),
      capabilities: { iotEdge: isJsonObject(body.capabilities) && body.capabilities.iotEdge === true },
      ...initialTwinOf(body.initialTwin),
      provisioningStatus: statusOf(body.provisioningStatus),
      reprovisionPolicy: reprovisionOf(body.reprovisionPolicy),
      allocationPolicy: typeof body.allocationPolicy === 'string' ? body.allocationPolicy : 'hashed',
      iotHubs: Array.isArray(body.iotHubs)
        ? body.iotHubs.filter((h): h is string => typeof h === 'string')
        : [],
      ...(typeof body.iotHubHostName === 'string' && { iotHubHostName: body.iotHubHostName }),
      etag: newEtag(),
      createdDateTimeUtc: existing?.createdDateTimeUtc ?? nowIso,
      lastUpdatedDateTimeUtc: nowIso,
    };
    this.groups.set(id.toLowerCase(), record);
    this.emit(record.enrollmentGroupId);
    return { record: structuredClone(record), created: existing === undefined };
  }

  /** A copy of the group; NotFound when absent. */
  get(id: string): EnrollmentGroupRecord {
    const record = this.groups.get(id.toLowerCase());
    if (!record) throw new DpsError('NotFound', `enrollment group '${id}' not found`);
    return structuredClone(record);
  }

  /** Deletes a group (`If-Match` `*` or its etag); NotFound when absent. */
  delete(id: string, ifMatch?: string): EnrollmentGroupRecord {
    const record = this.groups.get(id.toLowerCase());
    if (!record) throw new DpsError('NotFound', `enrollment group '${id}' not found`);
    const expected = unquoteEtag(ifMatch);
    if (expected !== undefined && expected !== '*' && expected !== record.etag)
      throw new DpsError(
        'PreconditionFailed',
        `etag '${expected}' does not match the enrollment group's etag`,
      );
    this.groups.delete(id.toLowerCase());
    this.emit(record.enrollmentGroupId);
    return record;
  }

  /** Every group, by id (shared records: callers must not change them). */
  list(): readonly EnrollmentGroupRecord[] {
    return [...this.groups.values()].sort((a, b) => a.enrollmentGroupId.localeCompare(b.enrollmentGroupId));
  }

  /** Everything, for the state file. */
  snapshot(): EnrollmentGroupRecord[] {
    return this.list().map((r) => structuredClone(r));
  }

  /** Replaces the content with saved groups. */
  restore(records: readonly EnrollmentGroupRecord[]): void {
    this.groups.clear();
    for (const r of records) this.groups.set(r.enrollmentGroupId.toLowerCase(), structuredClone(r));
  }

  private emit(id: string): void {
    for (const l of [...this.listeners]) l(id);
  }
}

function attestationOf(value: unknown): EnrollmentGroupRecord['attestation'] {
  if (!isJsonObject(value) || value.type !== 'symmetricKey') {
    throw new DpsError(
      'BadRequest',
      'the sandbox DPS serves symmetric-key attestation only (attestation.type must be "symmetricKey")',
    );
  }
  const keys = isJsonObject(value.symmetricKey) ? value.symmetricKey : {};
  const pick = (k: unknown): string => {
    // DPS generates keys when none are given.
    if (k === undefined || k === null || k === '') return generateSymmetricKey();
    if (typeof k !== 'string' || !isValidSymmetricKey(k))
      throw new DpsError('BadRequest', 'symmetric keys must be base64 of 16 to 64 bytes');
    return k;
  };
  return {
    type: 'symmetricKey',
    symmetricKey: { primaryKey: pick(keys.primaryKey), secondaryKey: pick(keys.secondaryKey) },
  };
}

function initialTwinOf(value: unknown): { initialTwin?: InitialTwin } {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw new DpsError('BadRequest', 'initialTwin must be an object');
  const twin: InitialTwin = {};
  if (value.tags !== undefined && value.tags !== null) {
    if (!isJsonObject(value.tags)) throw new DpsError('BadRequest', 'initialTwin.tags must be an object');
    twin.tags = value.tags;
  }
  const props = value.properties;
  if (isJsonObject(props) && props.desired !== undefined && props.desired !== null) {
    if (!isJsonObject(props.desired))
      throw new DpsError('BadRequest', 'initialTwin.properties.desired must be an object');
    twin.properties = { desired: props.desired };
  }
  return { initialTwin: twin };
}

function statusOf(value: unknown): 'enabled' | 'disabled' {
  if (value === undefined || value === null || value === 'enabled') return 'enabled';
  if (value === 'disabled') return 'disabled';
  throw new DpsError('BadRequest', 'provisioningStatus must be "enabled" or "disabled"');
}

function reprovisionOf(value: unknown): EnrollmentGroupRecord['reprovisionPolicy'] {
  const v = isJsonObject(value) ? value : {};
  return {
    updateHubAssignment: v.updateHubAssignment !== false,
    migrateDeviceData: v.migrateDeviceData !== false,
  };
}
