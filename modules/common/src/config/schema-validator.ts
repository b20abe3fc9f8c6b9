import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import hybridConnectionSchema from './hybrid-connection.schema.json';

/** One problem found in a configuration document, located by a JSON pointer. */
export interface ConfigProblem {
  /** JSON pointer into the document, e.g. `/routes/sql/port` (`` for the root). */
  readonly path: string;
  readonly message: string;
}

/** Outcome of validating a document: the typed value, or every problem with its path. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * Compiles a module's JSON Schema (draft 2020-12, with the shared hybrid-connection schema available by $id)
 * into a function that reports every error, not just the first.
 */
export function compileConfigSchema<T>(schema: object): (document: unknown) => ValidationResult<T> {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, useDefaults: false });
  addFormats(ajv);
  ajv.addSchema(hybridConnectionSchema);
  const validate: ValidateFunction = ajv.compile(schema);
  return (document) =>
    validate(document)
      ? { ok: true, value: document as T }
      : { ok: false, problems: describeErrors(validate.errors ?? []) };
}

// Ajv reports oneOf/allOf wrappers next to the real cause; keep the specific ones and drop exact repeats.
function describeErrors(errors: readonly ErrorObject[]): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    if (isNoise(error)) continue;
    const message = describeError(error);
    const key = `${error.instancePath}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: error.instancePath, message });
  }
  return problems;
}

// The oneOf branches' own "required" errors and the pattern error under propertyNames restate the summary.
function isNoise(error: ErrorObject): boolean {
  if (error.keyword === 'required' && error.schemaPath.includes('/oneOf/')) return true;
  return error.propertyName !== undefined && error.keyword !== 'propertyNames';
}

function describeError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown property "${String(params.additionalProperty)}"`;
    case 'unevaluatedProperties':
      return `unknown property "${String(params.unevaluatedProperty)}"`;
    case 'required':
      return `missing required property "${String(params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${JSON.stringify(params.allowedValues)}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'propertyNames':
      return `property name "${String(params.propertyName)}" is not allowed (letters, digits, - and _ only)`;
    case 'oneOf':
      return 'must give either "connectionString" or both "namespace" and "sasToken"';
    default:
      return error.message ?? error.keyword;
  }
}
