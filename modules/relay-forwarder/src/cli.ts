import { createLogger, type Logger } from '../../common/src/log';
import { parseModuleArgs, type ParsedModuleArgs } from '../../common/src/module-cli/args';
import { ModuleExitCode } from '../../common/src/module-cli/exit-codes';
import { parseFailureExit, readRelayCa, startupFailureExit } from '../../common/src/module-cli/startup';
import { runUntilStopSignal } from '../../common/src/module-cli/stop-signals';
import {
  startExtensions,
  type ModuleExtensionFactory,
} from '../../common/src/telemetry/module-observability';
import { startForwarderFromFile, StartupError, type ForwarderFileApp } from './file-app';
import type { Forwarder } from './forwarder';
import { STANDARD_USAGE_LINES } from '../../common/src/cli/command-line';

/** Something started beside the forwarder once it runs (health endpoint, telemetry), stopped after it. */
export type ForwarderExtensionFactory = ModuleExtensionFactory<Forwarder>;

/** Exit codes of the relay-forwarder process (sysexits.h values, so scripts can tell them apart). */
export const ExitCode = ModuleExitCode;

/** Usage text printed for --help and on a bad command line. */
export const USAGE = `Usage: relay-forwarder --config <file.json> [--relay-ca <ca.pem>] [--log-level <level>]

  --config      JSON configuration (see docs/relay-forwarder.md); re-applied when it changes,
                and on SIGHUP
  --relay-ca    extra CA certificate to trust for the relay (the sandbox); NODE_EXTRA_CA_CERTS also works
  --log-level   fatal|error|warn|info|debug|trace|silent (default LOG_LEVEL, else info; the file's
                logLevel wins once applied)
${STANDARD_USAGE_LINES}`;

/** Parsed command line. */
export interface CliArgs {
  readonly configPath: string;
  readonly relayCaPath?: string;
  readonly logLevel?: string;
}

/** Parses argv (without node and script); returns an error text instead of throwing. */
export function parseCliArgs(argv: readonly string[]): ParsedModuleArgs<CliArgs> {
  // With `config` accepted, a parsed command line always has its configPath.
  return parseModuleArgs(argv, { config: true, shutdownDrain: false }) as ParsedModuleArgs<CliArgs>;
}

/** Where the CLI writes and which signals it handles (the process, unless a test passes its own). */
export interface CliIo {
  readonly stderr: { write(text: string): unknown };
  readonly stdout: { write(text: string): unknown };
  readonly signals: NodeJS.EventEmitter;
  readonly log?: Logger;
  /** Started once the forwarder runs its first configuration (file mode) or at once (twin mode). */
  readonly extensions?: readonly ForwarderExtensionFactory[];
}

/**
 * Runs relay-forwarder until SIGINT or SIGTERM (graceful: listeners close, tunnels drain for the configured
 * time), then resolves with the exit code. A second signal while stopping drains no longer.
 */
export async function runForwarderCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) return parseFailureExit('relay-forwarder', USAGE, parsed, io);
  const { args } = parsed;
  const defaultLevel = args.logLevel ?? process.env.LOG_LEVEL ?? 'info';
  const log = io.log ?? createLogger('relay-forwarder', defaultLevel);
  const relayCa = readRelayCa('relay-forwarder', args.relayCaPath, io);
  if (!relayCa.ok) return relayCa.exitCode;
  const { ca } = relayCa;

  let app: ForwarderFileApp;
  try {
    app = await startForwarderFromFile({
      configPath: args.configPath,
      log,
      ...(ca !== undefined && { tls: { ca } }),
    });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    return startupFailureExit('relay-forwarder', err, io);
  }
  const extensions = await startExtensions(io.extensions ?? [], app.forwarder).catch(async (err: unknown) => {
    await app.stop(0);
    throw err;
  });
  await runUntilStopSignal(io.signals, {
    reload: () => app.reload(),
    // A second signal means "now": drain no longer.
    hurry: () => void app.stop(0),
    stop: async (signal) => {
      log.info({ signal }, 'stopping: closing listeners and draining tunnels');
      await app.stop();
      await extensions.stop();
    },
  });
  return ExitCode.OK;
}
