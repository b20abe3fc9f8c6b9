import { DeploymentError, ManifestProblem } from './errors';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * Parses a .env file: `NAME=value` lines, optional `export `, `#` comments, blank lines, values in
 * single quotes (literal) or double quotes (\n, \t, \\ and \" escapes), and unquoted values ending
 * at ` #`. `NAME=` defines an empty value, which is not the same as leaving NAME out.
 */
export function parseEnvFile(text: string, fileName = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: ManifestProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    const match = LINE.exec(raw);
    const value = match ? unquote(match[2] ?? '') : undefined;
    if (!match || value === undefined) {
      // Say where, never what: the line may hold a secret.
      problems.push({ path: `${fileName}:${i + 1}`, message: 'expected NAME=value' });
      return;
    }
    out[match[1] as string] = value;
  });
  if (problems.length > 0) {
    throw new DeploymentError(
      'DEPLOYMENT_BAD_ENV_FILE',
      `${fileName} has lines that are not NAME=value`,
      problems,
    );
  }
  return out;
}

function unquote(value: string): string | undefined {
  if (value.startsWith('"')) return parseDoubleQuoted(value);
  if (value.startsWith("'")) {
    const end = value.indexOf("'", 1);
    if (end < 0 || !/^\s*(#.*)?$/.test(value.slice(end + 1))) return undefined;
    return value.slice(1, end);
  }
  const comment = value.search(/\s#/);
  return (comment < 0 ? value : value.slice(0, comment)).trim();
}

function parseDoubleQuoted(value: string): string | undefined {
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      const next = value[++i];
      out += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
    } else if (c === '"') {
      return /^\s*(#.*)?$/.test(value.slice(i + 1)) ? out : undefined;
    } else {
      out += c;
    }
  }
  return undefined;
}

/** Variables for placeholders: the .env values, overridden by the process environment (dotenv's rule). */
export function mergeVariables(
  envFile: Readonly<Record<string, string>>,
  processEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = { ...envFile };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) out[k] = v;
  return out;
}
