import { wantsDebug } from '../cli/command-line';
import { failureExit } from '../cli/failure';
import { selectModuleMode } from '../twin/twin-process';

/** The io a module's CLIs take from its entry point. */
export interface ModuleMainIo<E> {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly signals: NodeJS.EventEmitter;
  readonly extensions: readonly E[];
}

/** A module CLI (file or twin mode): runs until stopped and resolves with the exit code. */
export type ModuleCli<E> = (argv: readonly string[], io: ModuleMainIo<E>) => Promise<number>;

/** What a module's entry point wires together. */
export interface ModuleMainOptions<E> {
  readonly name: string;
  /** Process observability: its extension goes to the CLI, `shutdown` is awaited before exiting. */
  readonly observability: { readonly extension: E; shutdown(): Promise<void> };
  readonly fileCli: ModuleCli<E>;
  readonly twinCli: ModuleCli<E>;
}

/**
 * Runs a module process: file mode with `--config`, else twin mode (how IoT Edge starts it); exits with the
 * CLI's code, or 70 when it threw (one line; the stack trace with --debug).
 */
export function runModuleMain<E>(options: ModuleMainOptions<E>): void {
  const argv = process.argv.slice(2);
  const { observability } = options;
  const run = selectModuleMode(argv) === 'file' ? options.fileCli : options.twinCli;
  run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
    extensions: [observability.extension],
  }).then(
    // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
    async (code) => {
      await observability.shutdown();
      process.exit(code);
    },
    async (err: unknown) => {
      const code = failureExit(options.name, err, process.stderr, wantsDebug(argv));
      await observability.shutdown();
      process.exit(code);
    },
  );
}
