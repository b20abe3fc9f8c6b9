import { createLogger, type Logger } from '../../common/src/log';
import { parseModuleArgs, type ParsedModuleArgs } from '../../common/src/module-cli/args';
import { ModuleExitCode } from '../../common/src/module-cli/exit-codes';
import { parseFailureExit, readRelayCa, startupFailureExit } from '../../common/src/module-cli/startup';
import { runUntilStopSignal, type ModuleSignalHandlers } from '../../common/src/module-cli/stop-signals';
import {
  GatewayStartupError,
  startGatewayFromFile,
  type GatewayExtensionFactory,
  type GatewayFileApp,
} from './file-app';
import type { Gateway } from './gateway';
import { STANDARD_USAGE_LINES } from '../../common/src/cli/command-line';

/** Exit codes of the relay-gateway process (sysexits.h values, the same as relay-forwarder's). */
export const ExitCode = ModuleExitCode;

/** Usage text printed for --help and on a bad command line. */
export const USAGE = `Usage: relay-gateway --config <file.json> [--relay-ca <ca.pem>] [--log-level <level>]
                     [--shutdown-drain-ms <ms>]

  --config             JSON configuration (schema: docs/relay-gateway.schema.json); re-applied when it
                       changes, and on SIGHUP (which also retries routes whose port was taken)
  --relay-ca           extra CA certificate to trust for the relay (the sandbox); NODE_EXTRA_CA_CERTS also works
  --log-level          fatal|error|warn|info|debug|trace|silent (default LOG_LEVEL, else info; the file's
                       logLevel wins once applied)
  --shutdown-drain-ms  on SIGINT/SIGTERM, how long live connections may finish (default: the smaller of the
                       file's drainTimeoutMs and 8000, inside Docker's default 10 s stop grace period)
${STANDARD_USAGE_LINES}`;

/** Default upper bound of the drain at shutdown: `docker stop` (and IoT Edge) kill after 10 s by default. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 8_000;

/** Parsed command line. */
export interface GatewayCliArgs {
  readonly configPath: string;
  readonly relayCaPath?: string;
  readonly logLevel?: string;
  readonly shutdownDrainMs?: number;
}

/** Parses argv (without node and script); returns an error text instead of throwing. */
export function parseGatewayArgs(argv: readonly string[]): ParsedModuleArgs<GatewayCliArgs> {
  // With `config` accepted, a parsed command line always has its configPath.
  return parseModuleArgs(argv, { config: true, shutdownDrain: true }) as ParsedModuleArgs<GatewayCliArgs>;
}

/** Where the CLI writes and which signals it handles (the process, unless a test passes its own). */
export interface GatewayCliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly signals: NodeJS.EventEmitter;
  readonly logger?: Logger;
  /** Started beside the gateway (the health endpoint hooks in here). */
  readonly extensions?: readonly GatewayExtensionFactory[];
}

/**
 * Runs relay-gateway until SIGINT or SIGTERM (graceful: ports close at once, live connections drain), then
 * resolves with the exit code. A second signal while stopping closes every connection now. When the first
 * configuration is unusable nothing starts and the code says why (every problem is printed with its path).
 */
export async function runGatewayCli(argv: readonly string[], io: GatewayCliIo): Promise<number> {
  const parsed = parseGatewayArgs(argv);
  if (!parsed.ok) return parseFailureExit('relay-gateway', USAGE, parsed, io);
  const { args } = parsed;
  const logger = io.logger ?? createLogger('relay-gateway', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const relayCa = readRelayCa('relay-gateway', args.relayCaPath, io);
  if (!relayCa.ok) return relayCa.exitCode;
  const { ca } = relayCa;

  let app: GatewayFileApp;
  try {
    app = await startGatewayFromFile({
      configPath: args.configPath,
      logger,
      ...(ca !== undefined && { tls: { ca } }),
      ...(io.extensions && { extensions: io.extensions }),
    });
  } catch (err) {
    if (!(err instanceof GatewayStartupError)) throw err;
    return startupFailureExit('relay-gateway', err, io);
  }
  await runUntilStopSignal(io.signals, {
    reload: () => app.reload(),
    ...gatewayStopHandlers(app, args.shutdownDrainMs, logger),
  });
  logger.info({}, 'stopped');
  return ExitCode.OK;
}

/** What either mode's gateway app offers to a stop signal. */
export interface StoppableGatewayApp {
  readonly gateway: Gateway;
  stop(drainTimeoutMs: number): Promise<void>;
  hurry(): void;
}

/**
 * The gateway's signal handlers in both modes: the first signal drains for --shutdown-drain-ms, else the
 * smaller of drainTimeoutMs and DEFAULT_SHUTDOWN_DRAIN_MS; only the second closes every connection now.
 */
export function gatewayStopHandlers(
  app: StoppableGatewayApp,
  shutdownDrainMs: number | undefined,
  logger: Logger,
): Omit<ModuleSignalHandlers, 'reload'> {
  return {
    hurry: () => app.hurry(),
    hurryOnce: true,
    stop: async (signal) => {
      const drainMs =
        shutdownDrainMs ?? Math.min(app.gateway.currentConfig.drainTimeoutMs, DEFAULT_SHUTDOWN_DRAIN_MS);
      logger.info({ signal, drainMs }, 'stopping: ports closed, draining connections');
      await app.stop(drainMs);
    },
  };
}
