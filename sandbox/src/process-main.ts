import {
  answerCommandLine,
  parseCommandLine,
  wantsDebug,
  type OptionSpecs,
} from '../../modules/common/src/cli/command-line';
import { CliError } from '../../modules/common/src/cli/cli-error';
import { ExitCode } from '../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../modules/common/src/cli/failure';

/** A started sandbox service as its process entry sees it. */
export interface SandboxProcessStarted {
  /** Stops the service cleanly. */
  stop(): Promise<void>;
  /** What to print on stdout once it runs: the banner, or one JSON line. */
  readonly output: string;
}

/** A sandbox service's command line: its name in messages, usage text and option definitions. */
export interface SandboxCommand {
  /** Reads like `sandbox relay`. */
  readonly name: string;
  readonly usage: string;
  readonly options: OptionSpecs;
}

/**
 * The process plumbing of a sandbox service's `*-main.ts`: answers --help, --version and a bad command line (the
 * usage, exit 64), runs `start` (which parses the values, throwing UsageError for a bad one), prints its output,
 * and stops the service on SIGINT or SIGTERM (exit 0, or 1 when stopping fails; a second signal exits 130 at
 * once). A failed start is one line: a port in use 69, a refused permission 77, anything else 70 (the stack
 * trace with --debug).
 */
export function runSandboxProcess(
  command: SandboxCommand,
  start: (argv: readonly string[]) => Promise<SandboxProcessStarted>,
): void {
  const argv = process.argv.slice(2);
  const line = parseCommandLine(argv, command.options);
  if (line.kind !== 'run') {
    process.exitCode = answerCommandLine(command.name, command.usage, line, process);
    return;
  }
  const main = async (): Promise<void> => {
    const service = await start(argv);
    process.stdout.write(`${service.output}\n`);
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130); // a second Ctrl-C does not wait
      stopping = true;
      process.stderr.write(`${signal}: stopping the ${command.name}\n`);
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  };
  main().catch((err: unknown) => {
    process.exit(
      failureExit(command.name, startFailure(err), process.stderr, wantsDebug(argv), command.usage),
    );
  });
}

// Listening failures are the operator's environment, not bugs: say so in one line.
function startFailure(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE')
    return new CliError(
      ExitCode.UNAVAILABLE,
      `failed to start: ${(err as Error).message}`,
      'choose another --port',
    );
  if (code === 'EACCES')
    return new CliError(
      ExitCode.NO_PERM,
      `failed to start: ${(err as Error).message}`,
      'use a port above 1023 or a writable --state-dir',
    );
  return err;
}
