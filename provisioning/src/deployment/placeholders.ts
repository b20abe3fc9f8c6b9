import { childPointer, DeploymentError, DeploymentErrorCode, ManifestProblem } from './errors';

/** Where placeholder values come from; both lookups are pure. */
export interface PlaceholderSources {
  /** Values for `${NAME}`; a name that is absent (undefined) is an error, an empty string is a value. */
  readonly variables: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves `${MODULES.<folder>}` (suffix undefined) or `${MODULES.<folder>.<suffix>}` to an image
   * reference that may itself contain `${NAME}` variables (module.json repositories do).
   * Throws DeploymentError for an unknown module or platform.
   */
  resolveModuleImage(folder: string, suffix: string | undefined): string;
}

interface Collected extends ManifestProblem {
  readonly code: DeploymentErrorCode;
  readonly variable?: string;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE_REF = /^MODULES\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_.-]+))?$/;

/**
 * Returns a deep copy of `doc` with every `${NAME}` and `${MODULES.<folder>[.<suffix>]}` in string
 * values and object keys replaced. Nothing is ever replaced by an empty string by accident: every
 * missing variable, unknown module and malformed placeholder is collected with its path and
 * reported in one DeploymentError.
 */
export function expandPlaceholders<T>(doc: T, sources: PlaceholderSources): T {
  const problems: Collected[] = [];
  const out = walk(doc, '', sources, problems) as T;
  if (problems.length > 0) throw toError(problems);
  return out;
}

/** Expands placeholders in one string (same rules as expandPlaceholders), reporting at `path`. */
export function expandString(text: string, sources: PlaceholderSources, path = ''): string {
  const problems: Collected[] = [];
  const out = expandText(text, path, sources, problems, true);
  if (problems.length > 0) throw toError(problems);
  return out;
}

function walk(value: unknown, path: string, sources: PlaceholderSources, problems: Collected[]): unknown {
  if (typeof value === 'string') return expandText(value, path, sources, problems, true);
  if (Array.isArray(value))
    return value.map((item, i) => walk(item, childPointer(path, i), sources, problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [rawKey, child] of Object.entries(value)) {
      const keyPath = childPointer(path, rawKey);
      const key = expandText(rawKey, keyPath, sources, problems, true);
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        problems.push({
          code: 'DEPLOYMENT_BAD_TEMPLATE',
          path: keyPath,
          message: `key expands to "${key}", which is already used`,
        });
      }
      out[key] = walk(child, childPointer(path, key), sources, problems);
    }
    return out;
  }
  return value;
}

function expandText(
  text: string,
  path: string,
  sources: PlaceholderSources,
  problems: Collected[],
  allowModules: boolean,
): string {
  if (!text.includes('${')) return text;
  let out = '';
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const start = match.index ?? 0;
    out += literal(text.slice(last, start), path, problems);
    out += resolve(match[1] ?? '', match[0], path, sources, problems, allowModules);
    last = start + match[0].length;
  }
  return out + literal(text.slice(last), path, problems);
}

/** Literal text between placeholders must not hold a "${" that never closed. */
function literal(text: string, path: string, problems: Collected[]): string {
  if (text.includes('${')) {
    problems.push({
      code: 'DEPLOYMENT_BAD_PLACEHOLDER',
      path,
      message: `unterminated placeholder in "${text}"`,
    });
  }
  return text;
}

function resolve(
  body: string,
  whole: string,
  path: string,
  sources: PlaceholderSources,
  problems: Collected[],
  allowModules: boolean,
): string {
  if (VARIABLE_NAME.test(body)) {
    const value = sources.variables[body];
    if (value === undefined) {
      problems.push({
        code: 'DEPLOYMENT_MISSING_VARIABLE',
        path,
        variable: body,
        message: `variable ${body} is not set`,
      });
      return whole;
    }
    return value;
  }
  const moduleRef = allowModules ? MODULE_REF.exec(body) : null;
  if (moduleRef) {
    try {
      const image = sources.resolveModuleImage(moduleRef[1] as string, moduleRef[2]);
      // Module repositories carry ${CONTAINER_REGISTRY_SERVER}; expand variables only, never modules again.
      return expandText(image, path, sources, problems, false);
    } catch (err) {
      if (err instanceof DeploymentError) {
        problems.push({ code: err.code, path, message: err.message });
        return whole;
      }
      throw err;
    }
  }
  problems.push({
    code: 'DEPLOYMENT_BAD_PLACEHOLDER',
    path,
    message: `"${whole}" is not a placeholder this generator knows (use \${NAME} or \${MODULES.<folder>[.debug|.<platform>]})`,
  });
  return whole;
}

function toError(problems: Collected[]): DeploymentError {
  const missing = [...new Set(problems.flatMap((p) => (p.variable ? [p.variable] : [])))].sort();
  const first = problems.find((p) => p.code === 'DEPLOYMENT_MISSING_VARIABLE') ?? problems[0];
  const code = first?.code ?? 'DEPLOYMENT_BAD_TEMPLATE';
  const message =
    missing.length > 0
      ? `missing variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: set ${missing.length > 1 ? 'them' : 'it'} in the environment or in .env`
      : `cannot expand the template: ${problems.map((p) => p.message).join('; ')}`;
  return new DeploymentError(
    code,
    message,
    problems.map(({ path, message: m }) => ({ path, message: m })),
  );
}
