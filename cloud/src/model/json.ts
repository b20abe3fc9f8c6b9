/** A JSON value as twins hold it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object (twin tags, desired properties). */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of two JSON values (object key order does not matter, array order does). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => k in b && jsonEqual(a[k], b[k]));
}

/**
 * The JSON merge patch (RFC 7396, what a twin PATCH applies) that turns `from` into `to`; undefined when they
 * are equal. Removed keys become `null`; arrays and scalars are replaced whole.
 */
export function diffMergePatch(from: JsonObject, to: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!(key in to)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const before = from[key];
    if (jsonEqual(before, value)) continue;
    if (isJsonObject(before) && isJsonObject(value)) {
      const inner = diffMergePatch(before, value);
      if (inner) patch[key] = inner;
    } else {
      patch[key] = value;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Applies a JSON merge patch to a copy of `target` (null deletes, objects merge, anything else replaces). */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isJsonObject(value)) out[key] = applyMergePatch(isJsonObject(out[key]) ? out[key] : {}, value);
    else out[key] = value;
  }
  return out;
}

/** A section of a twin without IoT Hub's read-only `$version` / `$metadata` entries. */
export function withoutSystemKeys(section: unknown): JsonObject {
  if (!isJsonObject(section)) return {};
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(section)) {
    if (!key.startsWith('$')) copy[key] = value;
  }
  return copy;
}

/** The object at `key`, or an empty one when it is absent or not an object. */
export function objectAt(parent: JsonObject | undefined, key: string): JsonObject {
  const value = parent?.[key];
  return isJsonObject(value) ? value : {};
}
