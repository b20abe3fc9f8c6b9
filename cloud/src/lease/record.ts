import { isJsonObject, type JsonObject } from '../model/json';

/** The device identity whose twin holds the lease (created, disabled, when missing). */
export const DEFAULT_LEASE_DEVICE_ID = 'fleet-controller-lease';
/** The tag of the lease device that holds the record. */
export const LEASE_TAG = 'lease';
/** The tag the leader stamps into every twin it writes: `{ "generation": n }`. */
export const FENCE_TAG = 'relayController';

/** The lease as written in the lease device's tags. */
export interface LeaseRecord {
  /** Replica holding it; empty when released or never held. */
  readonly holder: string;
  /** Grows by one at every acquisition: the fencing token. */
  readonly generation: number;
  /** How long after its last change the lease counts as abandoned, as the holder declared. */
  readonly durationMs: number;
  /** Wall-clock time of the last write, for people only (decisions use each replica's own monotonic clock). */
  readonly renewedAt?: string;
}

/** The lease as read: record and etag. */
export interface LeaseReading {
  readonly etag: string;
  readonly record: LeaseRecord;
}

/** Reads the record from the lease device's tags; an absent or malformed one counts as free at generation 0. */
export function readLeaseRecord(tags: JsonObject | undefined): LeaseRecord {
  const raw = tags?.[LEASE_TAG];
  if (!isJsonObject(raw)) return { holder: '', generation: 0, durationMs: 0 };
  const generation = Number.isSafeInteger(raw.generation) ? (raw.generation as number) : 0;
  const durationMs = typeof raw.durationMs === 'number' && raw.durationMs > 0 ? raw.durationMs : 0;
  return {
    holder: typeof raw.holder === 'string' ? raw.holder : '',
    generation: Math.max(0, generation),
    durationMs,
    ...(typeof raw.renewedAt === 'string' && { renewedAt: raw.renewedAt }),
  };
}

/** The generation stamped into a twin's tags by the leader that last wrote it; 0 when none. */
export function fenceGenerationOf(tags: JsonObject | undefined): number {
  const raw = tags?.[FENCE_TAG];
  if (!isJsonObject(raw) || !Number.isSafeInteger(raw.generation)) return 0;
  return raw.generation as number;
}

/** What a replica should do with the lease now. */
export type LeaseDecision =
  | { readonly kind: 'renew' }
  | { readonly kind: 'acquire'; readonly generation: number }
  | { readonly kind: 'wait'; readonly holder: string; readonly untilMs: number };

/**
 * Decides (pure) from the last reading, when this replica first saw that exact etag (its own monotonic clock), and
 * the generation it holds. A lease whose etag has not changed for its duration, measured from when *this* replica
 * saw it, is abandoned: no wall clocks are compared, so clock skew between replicas does not matter (the same rule
 * as Kubernetes' leader election).
 */
export function decideLease(input: {
  readonly reading: LeaseReading;
  readonly firstSeenMs: number;
  readonly nowMs: number;
  readonly me: string;
  readonly myGeneration: number | undefined;
  readonly myDurationMs: number;
}): LeaseDecision {
  const { record } = input.reading;
  if (record.holder === input.me && record.generation === input.myGeneration) return { kind: 'renew' };
  const next = { kind: 'acquire' as const, generation: record.generation + 1 };
  if (record.holder === '') return next;
  // The longer of both durations: a holder configured with a longer lease is never cut short.
  const untilMs = input.firstSeenMs + Math.max(record.durationMs, input.myDurationMs);
  if (input.nowMs >= untilMs) return next;
  return { kind: 'wait', holder: record.holder, untilMs };
}

/** The tags patch that writes a record. */
export function leaseTags(record: LeaseRecord): JsonObject {
  return { [LEASE_TAG]: { ...record } };
}
