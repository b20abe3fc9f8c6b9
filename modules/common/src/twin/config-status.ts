import type { ConfigProblem } from '../config/schema-validator';
import type { JsonObject } from './json';

/** At most this many problems go into reported properties (the rest are counted): twins are small. */
export const MAX_REPORTED_PROBLEMS = 20;

/** Where the module stands with its desired configuration. */
export interface ConfigStatus {
  /** `waiting`: no desired document yet; `applied`: the last one received runs; `refused`: it was invalid. */
  readonly state: 'waiting' | 'applied' | 'refused';
  /** `$version` of the desired document running now. */
  readonly appliedVersion?: number;
  readonly appliedAtMs?: number;
  /** `$version` of the last desired document received. */
  readonly receivedVersion?: number;
  /** The last refused version and why, until a later version is applied. */
  readonly refused?: {
    readonly version: number;
    readonly atMs: number;
    readonly problems: readonly ConfigProblem[];
  };
}

/** Records outcomes of desired versions (pure state, no I/O). */
export class ConfigStatusTracker {
  private status: ConfigStatus = { state: 'waiting' };

  /** The status now. */
  get current(): ConfigStatus {
    return this.status;
  }

  /** A version arrived. */
  received(version: number): void {
    this.status = { ...this.status, receivedVersion: version };
  }

  /** A version was applied: it runs now and clears an earlier refusal. */
  applied(version: number, atMs: number): void {
    const { refused: _dropped, ...rest } = this.status;
    this.status = { ...rest, state: 'applied', appliedVersion: version, appliedAtMs: atMs };
  }

  /** A version was refused: the one applied before keeps running. */
  refused(version: number, atMs: number, problems: readonly ConfigProblem[]): void {
    this.status = { ...this.status, state: 'refused', refused: { version, atMs, problems } };
  }
}

/** The `config` section of reported properties. */
export function reportConfigStatus(status: ConfigStatus): JsonObject {
  const out: JsonObject = { status: status.state };
  if (status.appliedVersion !== undefined) out.version = status.appliedVersion;
  if (status.appliedAtMs !== undefined) out.appliedAt = new Date(status.appliedAtMs).toISOString();
  if (status.receivedVersion !== undefined) out.receivedVersion = status.receivedVersion;
  if (status.refused) {
    const { version, atMs, problems } = status.refused;
    out.refused = {
      version,
      at: new Date(atMs).toISOString(),
      problemCount: problems.length,
      problems: problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => ({ path: p.path, message: p.message })),
    };
  }
  return out;
}
