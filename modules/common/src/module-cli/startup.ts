import { readFileSync } from 'node:fs';
import { projectVersion } from '../cli/version';
import type { ConfigProblem } from '../config/schema-validator';
import { ModuleExitCode } from './exit-codes';
import type { ParsedModuleArgs } from './args';

/** Where a module CLI writes. */
export interface ModuleCliOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * For a command line that did not parse: prints the usage (to stdout for --help), or the version for --version,
 * and returns the exit code (0, or 64 for a bad command line).
 */
export function parseFailureExit(
  name: string,
  usage: string,
  parsed: Extract<ParsedModuleArgs<unknown>, { ok: false }>,
  out: ModuleCliOutput,
): number {
  if (parsed.help) {
    out.stdout.write(usage);
    return ModuleExitCode.OK;
  }
  if (parsed.version) {
    out.stdout.write(`${name} ${projectVersion()}\n`);
    return ModuleExitCode.OK;
  }
  out.stderr.write(`${name}: ${parsed.error}\n${usage}`);
  return ModuleExitCode.USAGE;
}

/** Reads `--relay-ca` when given; an unreadable file is printed (its errno code, never its content) and exits 66. */
export function readRelayCa(
  name: string,
  relayCaPath: string | undefined,
  out: Pick<ModuleCliOutput, 'stderr'>,
): { ok: true; ca?: string } | { ok: false; exitCode: number } {
  if (relayCaPath === undefined) return { ok: true };
  try {
    return { ok: true, ca: readFileSync(relayCaPath, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    out.stderr.write(`${name}: cannot read --relay-ca ${relayCaPath}: ${code}\n`);
    return { ok: false, exitCode: ModuleExitCode.NO_INPUT };
  }
}

/** What a module's file mode throws when its first configuration cannot be used. */
export interface ModuleStartupFailure {
  readonly message: string;
  readonly code: string;
  readonly problems: readonly ConfigProblem[];
}

/** Prints a startup failure with every problem and its path; exits 66 for an unreadable file, else 78. */
export function startupFailureExit(
  name: string,
  err: ModuleStartupFailure,
  out: Pick<ModuleCliOutput, 'stderr'>,
): number {
  out.stderr.write(`${name}: ${err.message}\n`);
  for (const problem of err.problems) out.stderr.write(`  ${problem.path || '/'}: ${problem.message}\n`);
  return err.code === 'CONFIG_FILE' ? ModuleExitCode.NO_INPUT : ModuleExitCode.CONFIG;
}
