import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json';

/**
 * Applies a twin patch (JSON merge patch, RFC 7386): objects merge key by key, `null` deletes a key, anything
 * else (arrays included) replaces the value. Returns a new object; neither input is changed. The SDK's own
 * merge (lodash) merges arrays index by index, which would turn `["a","b"]` + `["c"]` into `["c","b"]`.
 */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = cloneJson(target);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isJsonObject(value)) out[key] = applyMergePatch(isJsonObject(out[key]) ? out[key] : {}, value);
    else out[key] = cloneJson(value);
  }
  return out;
}

/**
 * The smallest merge patch that turns `before` into `after` (`null` for removed keys), or undefined when they
 * are equal. Arrays are compared whole and replaced whole.
 */
export function diffMergePatch(before: JsonObject, after: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    const previous = before[key];
    if (previous !== undefined && jsonEqual(previous, value)) continue;
    if (isJsonObject(value) && isJsonObject(previous)) {
      const inner = diffMergePatch(previous, value);
      if (inner !== undefined) patch[key] = inner;
    } else {
      // A new key whose value is an object containing nulls would delete nothing: nulls only matter in patches.
      patch[key] = cloneJson(value);
    }
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** A twin section split into its document and the `$version` IoT Hub keeps beside it. */
export interface VersionedSection {
  readonly document: JsonObject;
  /** `$version`, when the section had one. */
  readonly version: number | undefined;
}

/**
 * Separates IoT Hub's system keys (`$version`, `$metadata`, anything starting with `$`) from a twin section's
 * top level: twin keys may not start with `$`, so such a key is never configuration.
 */
export function splitSystemKeys(section: unknown): VersionedSection {
  const document: JsonObject = {};
  let version: number | undefined;
  if (isJsonObject(section)) {
    for (const [key, value] of Object.entries(section)) {
      if (key === '$version' && typeof value === 'number') version = value;
      if (key.startsWith('$') || typeof value === 'function' || value === undefined) continue;
      document[key] = cloneJson(value as JsonValue);
    }
  }
  return { document, version };
}
