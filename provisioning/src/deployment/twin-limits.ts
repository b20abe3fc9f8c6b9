import { childPointer, ManifestProblem } from './errors';

/** IoT Hub's limit on the desired properties of one twin. */
export const TWIN_DESIRED_MAX_BYTES = 32 * 1024;
/** IoT Hub's limit on one string value in a twin. */
export const TWIN_STRING_MAX_BYTES = 4 * 1024;
/** IoT Hub's limit on the nesting depth of twin properties. */
export const TWIN_MAX_DEPTH = 10;

/**
 * Size of a twin section the way IoT Hub counts it: keys and string values as UTF-8 bytes,
 * numbers 8 bytes, booleans 4, nested objects and arrays as the sum of their contents.
 */
export function twinSizeBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + twinSizeBytes(item), 0);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + twinSizeBytes(v),
      0,
    );
  }
  return 0;
}

/** Nesting depth of objects and arrays; the desired-properties object itself is depth 1. */
export function twinDepth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce((max: number, child) => Math.max(max, twinDepth(child)), 0);
}

/** Problems with one twin's desired properties against IoT Hub's size and depth limits. */
export function checkTwinLimits(desired: Record<string, unknown>, path: string): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const size = twinSizeBytes(desired);
  if (size > TWIN_DESIRED_MAX_BYTES) {
    problems.push({
      path,
      message: `desired properties take ${size} bytes; IoT Hub allows ${TWIN_DESIRED_MAX_BYTES}`,
    });
  }
  const depth = twinDepth(desired);
  if (depth > TWIN_MAX_DEPTH) {
    problems.push({
      path,
      message: `desired properties nest ${depth} levels deep; IoT Hub allows ${TWIN_MAX_DEPTH}`,
    });
  }
  const visit = (value: unknown, at: string): void => {
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > TWIN_STRING_MAX_BYTES) {
      problems.push({ path: at, message: `string values are limited to ${TWIN_STRING_MAX_BYTES} bytes` });
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, childPointer(at, k));
    }
  };
  visit(desired, path);
  return problems;
}
