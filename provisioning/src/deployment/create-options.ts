import { DeploymentError } from './errors';

/** Longest string the IoT Edge agent accepts in one createOptions twin value. */
export const CREATE_OPTIONS_CHUNK_CHARS = 512;
/** createOptions plus createOptions01…07: the agent's documented limit of eight chunks (4 KB). */
export const CREATE_OPTIONS_MAX_CHUNKS = 8;

const CHUNK_KEY = /^createOptions(?:(0[1-9]|[1-9][0-9]))?$/;

/** Twin key of chunk `index`: 0 → "createOptions", 1 → "createOptions01", … (two digits so keys sort). */
export function createOptionsKey(index: number): string {
  return index === 0 ? 'createOptions' : `createOptions${String(index).padStart(2, '0')}`;
}

/** Chunk index of a settings key, or undefined when the key is not a createOptions chunk. */
export function createOptionsIndex(key: string): number | undefined {
  const match = CHUNK_KEY.exec(key);
  if (!match) return undefined;
  return match[1] === undefined ? 0 : Number(match[1]);
}

/**
 * Cuts `text` into pieces of at most 512 UTF-16 code units, never between the two halves of a
 * surrogate pair, so that every piece is a well-formed string and their concatenation is `text`.
 */
export function splitCreateOptions(text: string, chunkChars = CREATE_OPTIONS_CHUNK_CHARS): string[] {
  if (text.length <= chunkChars) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + chunkChars, text.length);
    const lastCode = text.charCodeAt(end - 1);
    if (end < text.length && lastCode >= 0xd800 && lastCode <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

/** The createOptions string IoT Edge expects: objects are stringified compactly, strings kept as written. */
export function stringifyCreateOptions(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
  throw new DeploymentError(
    'DEPLOYMENT_BAD_TEMPLATE',
    `${path}: createOptions must be an object or a string`,
    [{ path, message: 'createOptions must be an object or a string' }],
  );
}

/**
 * Returns a copy of a module's `settings` whose createOptions (object or string) is stringified and
 * cut into `createOptions`, `createOptions01`, … in place of the original key. `path` is the JSON
 * pointer of `settings`, used in errors.
 */
export function applyCreateOptions(
  settings: Readonly<Record<string, unknown>>,
  path: string,
): Record<string, unknown> {
  if (!Object.prototype.hasOwnProperty.call(settings, 'createOptions')) return { ...settings };
  const stray = Object.keys(settings).filter((k) => (createOptionsIndex(k) ?? 0) > 0);
  if (stray.length > 0) {
    throw new DeploymentError(
      'DEPLOYMENT_BAD_TEMPLATE',
      `${path}: write createOptions once, as an object; the generator makes the chunks`,
      [{ path: `${path}/${stray[0]}`, message: 'templates must not hold createOptions chunks' }],
    );
  }
  const chunks = splitCreateOptions(
    stringifyCreateOptions(settings['createOptions'], `${path}/createOptions`),
  );
  if (chunks.length > CREATE_OPTIONS_MAX_CHUNKS) {
    const limit = CREATE_OPTIONS_CHUNK_CHARS * CREATE_OPTIONS_MAX_CHUNKS;
    throw new DeploymentError(
      'DEPLOYMENT_CREATE_OPTIONS_TOO_LONG',
      `${path}/createOptions is longer than the ${limit} characters IoT Edge accepts`,
      [
        {
          path: `${path}/createOptions`,
          message: `stringified length exceeds ${limit} characters (${CREATE_OPTIONS_MAX_CHUNKS} chunks)`,
        },
      ],
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'createOptions') chunks.forEach((chunk, i) => (out[createOptionsKey(i)] = chunk));
    else out[key] = value;
  }
  return out;
}

/** Reassembles createOptions from its chunks in index order (the agent's rule); undefined when absent. */
export function joinCreateOptions(settings: Readonly<Record<string, unknown>>): string | undefined {
  const parts = Object.entries(settings)
    .flatMap(([key, value]) => {
      const index = createOptionsIndex(key);
      return index === undefined || typeof value !== 'string' ? [] : [{ index, value }];
    })
    .sort((a, b) => a.index - b.index);
  return parts.length === 0 ? undefined : parts.map((p) => p.value).join('');
}
