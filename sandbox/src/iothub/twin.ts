import { IotHubError } from './errors';
import {
  applyMergePatch,
  cloneJson,
  diffMergePatch,
  isJsonObject,
  JsonObject,
  JsonValue,
  jsonByteLength,
} from './json';

/** Desired or reported properties with their own `$version`. */
export interface TwinSection {
  doc: JsonObject;
  version: number;
  lastUpdated: string;
}

/** Status of one configuration (automatic deployment) on one twin. */
export interface TwinConfigurationStatus {
  status: 'targeted' | 'applied';
}

/** Everything IoT Hub keeps in a device or module twin. */
export interface TwinRecord {
  tags: JsonObject;
  desired: TwinSection;
  reported: TwinSection;
  /** Twin version: grows on every change of tags, desired or reported; the etag derives from it. */
  version: number;
  configurations: Record<string, TwinConfigurationStatus>;
  /** Fingerprint of the desired document configurations last wrote, so unchanged results are not re-applied. */
  configFingerprint?: string;
}

/** IoT Hub twin quotas (public docs): bytes per section and nesting depth. */
export const TWIN_LIMITS = {
  tagsBytes: 8 * 1024,
  desiredBytes: 32 * 1024,
  reportedBytes: 32 * 1024,
  maxDepth: 10,
};

/** A fresh twin: empty sections at `$version` 1 as IoT Hub creates them. */
export function newTwin(nowIso: string): TwinRecord {
  return {
    tags: {},
    desired: { doc: {}, version: 1, lastUpdated: nowIso },
    reported: { doc: {}, version: 1, lastUpdated: nowIso },
    version: 1,
    configurations: {},
  };
}

/** Twin etag as IoT Hub shows it: base64 of the 64-bit twin version. */
export function twinEtag(twin: TwinRecord): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(twin.version));
  return buf.toString('base64');
}

// Twin keys may not hold '.', '$', spaces or control characters (C0 and C1).
function badKey(key: string): boolean {
  for (const ch of key) {
    const code = ch.charCodeAt(0);
    if (ch === '.' || ch === '$' || ch === ' ' || code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Drops the read-only `$version` / `$metadata` a caller may echo back at the top of a section. */
export function stripSystemKeys(doc: JsonObject): JsonObject {
  const copy: JsonObject = { ...doc };
  delete copy.$version;
  delete copy.$metadata;
  return copy;
}

/** Throws ArgumentInvalid / MessageTooLarge when a section breaks IoT Hub's key, depth or size rules. */
export function validateSection(kind: 'tags' | 'desired' | 'reported', doc: JsonObject): void {
  checkKeys(kind, doc, 1);
  const limit =
    kind === 'tags'
      ? TWIN_LIMITS.tagsBytes
      : kind === 'desired'
        ? TWIN_LIMITS.desiredBytes
        : TWIN_LIMITS.reportedBytes;
  const size = jsonByteLength(doc);
  if (size > limit) {
    throw new IotHubError('MessageTooLarge', `${kind} is ${size} bytes, above the ${limit}-byte limit`);
  }
}

function checkKeys(kind: string, value: JsonValue, depth: number): void {
  if (Array.isArray(value)) {
    for (const item of value) checkKeys(kind, item, depth);
    return;
  }
  if (!isJsonObject(value)) return;
  if (depth > TWIN_LIMITS.maxDepth) {
    throw new IotHubError('ArgumentInvalid', `${kind} nests deeper than ${TWIN_LIMITS.maxDepth} levels`);
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key.length === 0 || badKey(key)) {
      throw new IotHubError(
        'ArgumentInvalid',
        `${kind} key '${key}' may not contain '.', '$', spaces or control characters`,
      );
    }
    checkKeys(kind, inner, depth + 1);
  }
}

/** Result of a change to desired properties: the patch a subscribed device receives, `$version` included. */
export interface DesiredChange {
  pushPatch: JsonObject;
  version: number;
}

/** Applies a desired merge patch; returns what to push to the device. */
export function patchDesired(twin: TwinRecord, patch: JsonObject, nowIso: string): DesiredChange {
  const clean = stripSystemKeys(patch);
  const next = cloneJson(twin.desired.doc);
  applyMergePatch(next, clean);
  validateSection('desired', next);
  twin.desired = { doc: next, version: twin.desired.version + 1, lastUpdated: nowIso };
  twin.version += 1;
  return {
    pushPatch: { ...cloneJson(clean), $version: twin.desired.version },
    version: twin.desired.version,
  };
}

/** Replaces desired properties wholesale; the pushed patch is the difference (removed keys as `null`). */
export function replaceDesired(
  twin: TwinRecord,
  desired: JsonObject,
  nowIso: string,
): DesiredChange | undefined {
  const next = cloneJson(stripSystemKeys(desired));
  validateSection('desired', next);
  const diff = diffMergePatch(twin.desired.doc, next);
  if (!diff) return undefined;
  twin.desired = { doc: next, version: twin.desired.version + 1, lastUpdated: nowIso };
  twin.version += 1;
  return { pushPatch: { ...diff, $version: twin.desired.version }, version: twin.desired.version };
}

/** Applies a tags merge patch; true when tags changed. */
export function patchTags(twin: TwinRecord, patch: JsonObject): boolean {
  const next = cloneJson(twin.tags);
  applyMergePatch(next, patch);
  return commitTags(twin, next);
}

/** Replaces tags wholesale; true when tags changed. */
export function replaceTags(twin: TwinRecord, tags: JsonObject): boolean {
  return commitTags(twin, cloneJson(tags));
}

function commitTags(twin: TwinRecord, next: JsonObject): boolean {
  validateSection('tags', next);
  if (diffMergePatch(twin.tags, next) === undefined) return false;
  twin.tags = next;
  twin.version += 1;
  return true;
}

/** Applies a reported merge patch sent by the device; returns the new reported `$version`. */
export function patchReported(twin: TwinRecord, patch: JsonObject, nowIso: string): number {
  const next = cloneJson(twin.reported.doc);
  applyMergePatch(next, stripSystemKeys(patch));
  validateSection('reported', next);
  twin.reported = { doc: next, version: twin.reported.version + 1, lastUpdated: nowIso };
  twin.version += 1;
  return twin.reported.version;
}

/** The `properties` object as the service API shows it, with `$metadata` and `$version`. */
export function serviceProperties(twin: TwinRecord): JsonObject {
  return {
    desired: {
      ...cloneJson(twin.desired.doc),
      $metadata: { $lastUpdated: twin.desired.lastUpdated, $lastUpdatedVersion: twin.desired.version },
      $version: twin.desired.version,
    },
    reported: {
      ...cloneJson(twin.reported.doc),
      $metadata: { $lastUpdated: twin.reported.lastUpdated },
      $version: twin.reported.version,
    },
  };
}

/** The body of a device-side twin GET response. */
export function deviceTwinDocument(twin: TwinRecord): JsonObject {
  return {
    desired: { ...cloneJson(twin.desired.doc), $version: twin.desired.version },
    reported: { ...cloneJson(twin.reported.doc), $version: twin.reported.version },
  };
}
