import { DpsError } from './errors';
import { newEtag } from './keys';

/** Final states of a registration the service keeps (`assigning` lives only in an operation). */
export type RegistrationStatus = 'assigned' | 'failed' | 'disabled';

/** `initialAssignment` the first time, then what the reprovisioning policy did. */
export type RegistrationSubstatus = 'initialAssignment' | 'deviceDataMigrated' | 'deviceDataReset';

/** A device registration state (the service API's `DeviceRegistrationState`). */
export interface RegistrationRecord {
  registrationId: string;
  enrollmentGroupId: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  status: RegistrationStatus;
  assignedHub?: string;
  deviceId?: string;
  substatus?: RegistrationSubstatus;
  errorCode?: number;
  errorMessage?: string;
  etag: string;
}

/** What a finished registration attempt recorded. */
export type RegistrationOutcome = Omit<
  RegistrationRecord,
  'createdDateTimeUtc' | 'lastUpdatedDateTimeUtc' | 'etag'
>;

/** Registration states by registration ID (case-insensitive, like DPS). */
export class Registrations {
  private readonly records = new Map<string, RegistrationRecord>();
  private readonly listeners = new Set<(record: RegistrationRecord) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Calls `listener` after every recorded attempt; returns the unsubscribe function. */
  onRecord(listener: (record: RegistrationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state of a registration, if any. */
  find(registrationId: string): RegistrationRecord | undefined {
    const r = this.records.get(registrationId.toLowerCase());
    return r && { ...r };
  }

  /** The state of a registration; NotFound when absent. */
  get(registrationId: string): RegistrationRecord {
    const r = this.find(registrationId);
    if (!r) throw new DpsError('NotFound', `registration '${registrationId}' not found`);
    return r;
  }

  /** Records the outcome of an attempt, keeping the creation time of an earlier one. */
  record(outcome: RegistrationOutcome): RegistrationRecord {
    const nowIso = this.now().toISOString();
    const previous = this.records.get(outcome.registrationId.toLowerCase());
    const record: RegistrationRecord = {
      ...outcome,
      createdDateTimeUtc: previous?.createdDateTimeUtc ?? nowIso,
      lastUpdatedDateTimeUtc: nowIso,
      etag: newEtag(),
    };
    this.records.set(outcome.registrationId.toLowerCase(), record);
    for (const l of [...this.listeners]) l({ ...record });
    return { ...record };
  }

  /** Deletes a registration state (`If-Match` `*` or its etag); NotFound when absent. */
  delete(registrationId: string, etag?: string): void {
    const r = this.get(registrationId);
    if (etag !== undefined && etag !== '*' && etag !== r.etag)
      throw new DpsError('PreconditionFailed', `etag '${etag}' does not match the registration's etag`);
    this.records.delete(registrationId.toLowerCase());
  }

  /** Drops every registration state of a deleted enrollment group. */
  deleteGroup(enrollmentGroupId: string): void {
    for (const [k, r] of this.records)
      if (r.enrollmentGroupId.toLowerCase() === enrollmentGroupId.toLowerCase()) this.records.delete(k);
  }

  /** Registrations of one group, by id. */
  ofGroup(enrollmentGroupId: string): RegistrationRecord[] {
    return this.list().filter((r) => r.enrollmentGroupId.toLowerCase() === enrollmentGroupId.toLowerCase());
  }

  /** Every registration, by id. */
  list(): RegistrationRecord[] {
    return [...this.records.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => a.registrationId.localeCompare(b.registrationId));
  }

  /** Replaces the content with saved records. */
  restore(records: readonly RegistrationRecord[]): void {
    this.records.clear();
    for (const r of records) this.records.set(r.registrationId.toLowerCase(), { ...r });
  }
}
