import { isSecretFieldName, REDACTED, scrubSecrets } from '../telemetry/redact';
import { isJsonObject, jsonByteLength, type JsonObject, type JsonValue } from './json';

/**
 * A copy of `value` fit to leave the module (reported properties, method responses, telemetry): every string is
 * scrubbed of secret-shaped text (SAS tokens, `SharedAccessKey=…`, `sig=…`), and a string under a secret-named
 * field is replaced whole. Unlike the log redaction, an object under a secret-looking key is kept: map keys here
 * are route and service names chosen by operators (a route called `monkey` is not a key), and objects are
 * walked anyway. `undefined` values are dropped (twins have no undefined; `null` would delete).
 */
export function scrubForTwin<T extends JsonValue>(value: T): T {
  return scrub(value, undefined) as T;
}

function scrub(value: unknown, key: string | undefined): JsonValue | undefined {
  if (typeof value === 'string')
    return key !== undefined && isSecretFieldName(key) ? REDACTED : scrubSecrets(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, undefined) ?? null);
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const scrubbed = scrub(v, k);
      if (scrubbed !== undefined) out[k] = scrubbed;
    }
    return out;
  }
  return undefined;
}

/** How much a module puts in a report: everything, without per-item counters, or only what needs attention. */
export type ReportDetail = 'full' | 'compact' | 'summary';

/** Detail levels from the richest to the smallest. */
export const REPORT_DETAILS: readonly ReportDetail[] = ['full', 'compact', 'summary'];

/**
 * Builds a report at the richest detail level that fits `maxBytes` (IoT Hub caps reported properties at 32 KB
 * and method responses at 128 KB); the smallest level is returned even when it does not fit, marked `detail`.
 */
export function fitReport(build: (detail: ReportDetail) => JsonObject, maxBytes: number): JsonObject {
  let report: JsonObject = {};
  for (const detail of REPORT_DETAILS) {
    report = scrubForTwin(build(detail));
    if (jsonByteLength(report) <= maxBytes) return detail === 'full' ? report : { ...report, detail };
  }
  return { ...report, detail: 'summary' };
}
