/** A JSON value as twins, tags and configurations hold it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** True for plain JSON objects (not arrays, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of a JSON value (twins are handed out and stored as copies, never shared). */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Structural equality of two JSON values; key order does not matter. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Applies a JSON merge patch (RFC 7396) in place, the way IoT Hub applies twin patches: objects merge
 * recursively, `null` deletes a key, anything else (arrays included) replaces.
 */
export function applyMergePatch(target: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
    } else if (isJsonObject(value)) {
      const current = target[key];
      const next: JsonObject = isJsonObject(current) ? current : {};
      applyMergePatch(next, value);
      target[key] = next;
    } else {
      target[key] = cloneJson(value);
    }
  }
}

/** The merge patch that turns `from` into `to` (removed keys become `null`), or undefined when equal. */
export function diffMergePatch(from: JsonObject, to: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!Object.prototype.hasOwnProperty.call(to, key)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const old = from[key];
    if (jsonEqual(old, value)) continue;
    if (isJsonObject(old) && isJsonObject(value)) {
      const inner = diffMergePatch(old, value);
      if (inner) patch[key] = inner;
    } else {
      patch[key] = cloneJson(value);
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Sets `value` at a dotted `path` inside `target`, creating intermediate objects (layered deployment paths). */
export function setAtPath(target: JsonObject, path: readonly string[], value: JsonValue): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (!isJsonObject(next)) node[segment] = {};
    node = node[segment] as JsonObject;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = cloneJson(value);
}

/** Reads the value at `path` in a JSON document; undefined when any segment is missing. */
export function getAtPath(doc: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = doc;
  for (const segment of path) {
    if (!isJsonObject(node) || !Object.prototype.hasOwnProperty.call(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Byte length of the UTF-8 JSON encoding, the measure IoT Hub's twin size limits use. */
export function jsonByteLength(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
