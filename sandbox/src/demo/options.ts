// The demo's command line and environment.
import { resolve } from 'node:path';

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
`;

/** Parses a sandbox run's `--check` / `--state-dir` (check also from `checkEnvVar`); `help` or an `error` text. */
export function parseCheckRunArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  checkEnvVar: string,
): { ok: true; args: DemoArgs } | { ok: false; help: boolean; error?: string } {
  let check = env[checkEnvVar] === '1' || env[checkEnvVar] === 'true';
  let stateDir = env.SANDBOX_STATE_DIR || '.sandbox-state';
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--check') check = true;
    else if (flag === '--help' || flag === '-h') return { ok: false, help: true };
    else if (flag === '--state-dir') {
      const value = argv[++i];
      if (value === undefined || value === '')
        return { ok: false, help: false, error: '--state-dir needs a value' };
      stateDir = value;
    } else return { ok: false, help: false, error: `unknown option ${flag}` };
  }
  return { ok: true, args: { check, stateDir: resolve(stateDir) } };
}

/** Parses argv (after the script) and the environment; `help` or an `error` text instead of throwing. */
export function parseDemoArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; args: DemoArgs } | { ok: false; help: boolean; error?: string } {
  return parseCheckRunArgs(argv, env, 'DEMO_CHECK');
}
