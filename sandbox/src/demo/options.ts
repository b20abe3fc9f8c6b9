// The demo's command line and environment.
import { resolve } from 'node:path';
import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
  type CommandLine,
  type OptionSpecs,
} from '../../../modules/common/src/cli/command-line';

/** Parsed demo settings. */
export interface DemoArgs {
  /** Run the self-check, stop everything and exit (0 when it passed). */
  readonly check: boolean;
  /** Where the CA (kept between runs), configuration files and logs go. */
  readonly stateDir: string;
}

/** Usage text for --help and bad command lines. */
export const DEMO_USAGE = `Usage: npm run demo:tunnel [-- --check] [-- --state-dir <dir>]

  Runs the sandbox tunnel demo on loopback: the sandbox Azure Relay, relay-gateway and relay-forwarder
  (as child processes on generated configuration files) and two sample on-prem services; prints the
  public ports, checks them through the tunnel, then runs until Ctrl-C.

  --check       run the self-check, stop everything and exit (0 when it passed); or DEMO_CHECK=1
  --state-dir   state directory (default SANDBOX_STATE_DIR, else .sandbox-state); the CA in <dir>/pki
                is kept between runs, configuration files and logs go to <dir>/demo
${STANDARD_USAGE_LINES}
Exit codes: 0 ran (and --check passed), 1 the check failed, 64 bad command line, 70 could not start.
`;

/** The options of a sandbox run (`npm start`, `npm run demo:tunnel`). */
export const CHECK_RUN_OPTIONS = {
  check: { type: 'boolean' },
  'state-dir': { type: 'string' },
} as const satisfies OptionSpecs;

/** A parsed sandbox command line, or why not (`help`, `version`, or an `error` text). */
export type ParsedSandboxArgs<T> =
  { ok: true; args: T } | { ok: false; help: boolean; version?: boolean; error?: string };

/** Parses a sandbox run's `--check` / `--state-dir` (check also from `checkEnvVar`); `help` or an `error` text. */
export function parseCheckRunArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  checkEnvVar: string,
): ParsedSandboxArgs<DemoArgs> {
  const line = parseCommandLine(argv, CHECK_RUN_OPTIONS);
  if (line.kind !== 'run') return notRun(line);
  const stateDirFlag = stringFlag(line.values, 'state-dir');
  if (stateDirFlag === '') return { ok: false, help: false, error: '--state-dir needs a value' };
  const check = line.values.check === true || env[checkEnvVar] === '1' || env[checkEnvVar] === 'true';
  const stateDir = stateDirFlag ?? (env.SANDBOX_STATE_DIR || '.sandbox-state');
  return { ok: true, args: { check, stateDir: resolve(stateDir) } };
}

/** A command line that does not run, in the `{ ok: false }` form the sandbox parsers return. */
export function notRun(line: Exclude<CommandLine, { kind: 'run' }>): ParsedSandboxArgs<never> {
  if (line.kind === 'help') return { ok: false, help: true };
  if (line.kind === 'version') return { ok: false, help: false, version: true };
  return { ok: false, help: false, error: line.error };
}

/** Parses argv (after the script) and the environment; `help` or an `error` text instead of throwing. */
export function parseDemoArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedSandboxArgs<DemoArgs> {
  return parseCheckRunArgs(argv, env, 'DEMO_CHECK');
}
