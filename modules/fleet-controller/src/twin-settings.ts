import { parseControllerOptions } from '../../../cloud/src/cli-options';

/**
 * The controller settings a module twin may set (desired property → the environment variable it overrides). The
 * pool's range, the namespace and every credential stay in the deployment's environment: the range has one source
 * (the infrastructure's outputs) and no secret belongs in a twin.
 */
export const TWIN_SETTINGS = {
  logLevel: 'LOG_LEVEL',
  tokenLifetime: 'TOKEN_LIFETIME',
  renewBelow: 'TOKEN_RENEW_BELOW',
  interval: 'RECONCILE_INTERVAL',
  pollInterval: 'POLL_INTERVAL',
  defaultPool: 'DEFAULT_POOL',
  controllerId: 'CONTROLLER_ID',
  hybridConnectionPrefix: 'HYBRID_CONNECTION_PREFIX',
} as const;

/** What a desired document means for the controller: the overrides to run with, or why it is refused. */
export type DesiredSettings =
  | { readonly ok: true; readonly overrides: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads the twin's desired properties (`$…` metadata and `schemaVersion` ignored) into environment overrides and
 * checks the result with the controller's own option parser against `env`, so a bad value is refused before it
 * replaces a running configuration. Pure.
 */
export function desiredSettings(
  desired: Readonly<Record<string, unknown>>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DesiredSettings {
  const problems: string[] = [];
  const overrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (key.startsWith('$') || key === 'schemaVersion' || value === null) continue;
    const variable = (TWIN_SETTINGS as Record<string, string>)[key];
    if (variable === undefined) {
      problems.push(`desired.${key} is not a controller setting (${Object.keys(TWIN_SETTINGS).join(', ')})`);
    } else if (typeof value === 'string' || typeof value === 'number') {
      overrides[variable] = String(value);
    } else {
      problems.push(`desired.${key} must be a string or a number`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const parsed = parseControllerOptions(argv, { ...env, ...overrides });
  return parsed.ok || parsed.help ? { ok: true, overrides } : { ok: false, problems: parsed.problems };
}
