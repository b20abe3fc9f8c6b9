/**
 * Secret scrubbing for anything that leaves the process as text: log lines, reported properties, span events.
 * Two nets: values of secret-named fields, and secret-shaped substrings (SAS tokens, `SharedAccessKey=…`, `sig=…`,
 * bearer tokens, URL passwords) wherever they appear, including inside error messages and stringified JSON.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

// Field names whose values are secrets: anything ending in key/token/secret/password/connection string/
// authorization/signature/credential(s), plus the bare SAS query parameter `sig`. Erring toward hiding a
// harmless `routeKey` is the right trade.
const SECRET_FIELD =
  /^(?:sig|.*(?:key|keys|token|tokens|secret|secrets|password|passwd|pwd|connectionstring|connection_string|authorization|signature|credential|credentials))$/i;

/** True when a property named `name` holds a secret by convention. */
export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD.test(name);
}

// Characters a SAS token, base64 key or URL-encoded value can contain; quotes, backslashes, whitespace,
// `;` and `,` end them, which is what stops a match at the edge of a JSON string or connection-string part.
const TOKEN_CHARS = String.raw`[\w%=&.~+/:-]+`;
const VALUE_CHARS = String.raw`[\w%=.~+/-]+`;

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // `SharedAccessSignature sr=…&sig=…&se=…&skn=…`, also URL-encoded (`%20`, `+`) as in `sb-hc-token=`.
  [new RegExp(String.raw`(SharedAccessSignature(?:\s|%20|\+)+)${TOKEN_CHARS}`, 'gi'), `$1${REDACTED}`],
  // Connection-string parts: `SharedAccessKey=…;`, `AccountKey=…`, `InstrumentationKey=…`, `Password=…`.
  [
    new RegExp(
      String.raw`((?:SharedAccessKey|AccountKey|InstrumentationKey|Password|Pwd)\s*=\s*)${VALUE_CHARS}`,
      'gi',
    ),
    `$1${REDACTED}`,
  ],
  // A bare signature query parameter (`&sig=…`, `%26sig%3D…`).
  [new RegExp(String.raw`(\bsig(?:=|%3D))${VALUE_CHARS}`, 'gi'), `$1${REDACTED}`],
  [/(%26sig%3D)(?:(?!%26)[\w%.~+/-])+/gi, `$1${REDACTED}`],
  // OAuth bearer tokens (ARM calls through @azure/identity).
  [/(Bearer\s+)[\w.~+/-]+=*/g, `$1${REDACTED}`],
  // Passwords in URLs: scheme://user:password@host.
  [/(\/\/[^\s/:@"'\\]+:)[^\s/@"'\\]+@/g, `$1${REDACTED}@`],
];

// `"name":"value"` inside text, at any escaping depth (`\"name\":\"value\"` in stringified JSON).
const QUOTED_FIELD = /(\\*")([\w$-]+)(\\*"\s*:\s*\\*")([^"\\]*)/g;

/** Replaces every secret-shaped substring of `text` with a placeholder. Cheap enough for every log line. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(QUOTED_FIELD, (whole, open: string, name: string, sep: string, value: string) =>
    value === '' || value === REDACTED || !isSecretFieldName(name)
      ? whole
      : `${open}${name}${sep}${REDACTED}`,
  );
}

const MAX_DEPTH = 12;

/**
 * Returns a copy of `value` with secret-named fields replaced and every string scrubbed. Plain objects and arrays
 * are copied; Error objects become plain `{ type, message, stack, …fields }` so nothing hides in their properties;
 * other class instances pass through untouched. Cycles and very deep nesting are cut off.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0, new WeakSet()) as T;
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > MAX_DEPTH) return '[elided]';
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redact(v, depth + 1, seen));
  }
  if (value instanceof Error) {
    seen.add(value);
    const plain: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
    for (const [k, v] of Object.entries(value)) plain[k] = v;
    if (value.cause !== undefined) plain.cause = value.cause;
    return redactFields(plain, depth, seen);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  return redactFields(value as Record<string, unknown>, depth, seen);
}

function redactFields(
  obj: Record<string, unknown>,
  depth: number,
  seen: WeakSet<object>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = isSecretFieldName(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}
