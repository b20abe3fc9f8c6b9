import type { EnrollmentGroupRecord } from './enrollments';
import type { RegistrationRecord } from './registrations';
import type { DpsPolicy } from './service-auth';

/** Everything the sandbox DPS keeps across restarts (operations are transient and not kept). */
export interface DpsStateDocument {
  schema: 1;
  dpsName: string;
  idScope: string;
  /** Port last listened on, reused on restart so connection strings and ID scope stay valid. */
  port?: number;
  policies: DpsPolicy[];
  enrollmentGroups: EnrollmentGroupRecord[];
  registrations: RegistrationRecord[];
}

/** File name of the state document inside the state directory. */
export const DPS_STATE_FILE = 'dps-state.json';

/** True when `doc` looks like a state document this version can read. */
export function isDpsStateDocument(doc: unknown): doc is DpsStateDocument {
  const d = doc as Partial<DpsStateDocument> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.schema === 1 &&
    typeof d.idScope === 'string' &&
    typeof d.dpsName === 'string' &&
    Array.isArray(d.policies) &&
    Array.isArray(d.enrollmentGroups) &&
    Array.isArray(d.registrations)
  );
}
