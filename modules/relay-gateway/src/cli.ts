import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../common/src/log';
import {
  GatewayStartupError,
  startGatewayFromFile,
  type GatewayExtensionFactory,
  type GatewayFileApp,
} from './file-app';

/** Exit codes of the relay-gateway process (sysexits.h values, the same as relay-forwarder's). */
export const ExitCode = {
  OK: 0,
  /** Bad command line. */
  USAGE: 64,
  /** A file named on the command line could not be read. */
  NO_INPUT: 66,
  /** The first configuration was invalid: nothing was started. */
  CONFIG: 78,
} as const;

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
`;

/** Default upper bound of the drain at shutdown: `docker stop` (and IoT Edge) kill after 10 s by default. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 8_000;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parsed command line. */
export interface GatewayCliArgs {
  readonly configPath: string;
  readonly relayCaPath?: string;
  readonly logLevel?: string;
  readonly shutdownDrainMs?: number;
}

/** Parses argv (without node and script); returns an error text instead of throwing. */
export function parseGatewayArgs(
  argv: readonly string[],
): { ok: true; args: GatewayCliArgs } | { ok: false; help: boolean; error?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        'relay-ca': { type: 'string' },
        'log-level': { type: 'string' },
        'shutdown-drain-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { ok: false, help: false, error: (err as Error).message };
  }
  if (values.help) return { ok: false, help: true };
  if (!values.config) return { ok: false, help: false, error: '--config is required' };
  const level = values['log-level'];
  if (level !== undefined && !LEVELS.includes(level))
    return { ok: false, help: false, error: `--log-level must be one of ${LEVELS.join(', ')}` };
  const drain = values['shutdown-drain-ms'];
  if (drain !== undefined && !/^[0-9]{1,7}$/.test(drain))
    return { ok: false, help: false, error: '--shutdown-drain-ms must be a whole number of milliseconds' };
  return {
    ok: true,
    args: {
      configPath: values.config,
      ...(values['relay-ca'] !== undefined && { relayCaPath: values['relay-ca'] }),
      ...(level !== undefined && { logLevel: level }),
      ...(drain !== undefined && { shutdownDrainMs: Number(drain) }),
    },
  };
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
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout.write(USAGE);
      return ExitCode.OK;
    }
    io.stderr.write(`relay-gateway: ${parsed.error}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const { args } = parsed;
  const logger = io.logger ?? createLogger('relay-gateway', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  let ca: string | undefined;
  if (args.relayCaPath !== undefined) {
    try {
      ca = readFileSync(args.relayCaPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      io.stderr.write(`relay-gateway: cannot read --relay-ca ${args.relayCaPath}: ${code}\n`);
      return ExitCode.NO_INPUT;
    }
  }

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
    io.stderr.write(`relay-gateway: ${err.message}\n`);
    for (const problem of err.problems) io.stderr.write(`  ${problem.path || '/'}: ${problem.message}\n`);
    return err.code === 'CONFIG_FILE' ? ExitCode.NO_INPUT : ExitCode.CONFIG;
  }
  const onHup = (): void => app.reload();
  io.signals.on('SIGHUP', onHup);

  const signal = await new Promise<string>((resolve) => {
    io.signals.once('SIGINT', () => resolve('SIGINT'));
    io.signals.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const drainMs =
    args.shutdownDrainMs ?? Math.min(app.gateway.currentConfig.drainTimeoutMs, DEFAULT_SHUTDOWN_DRAIN_MS);
  logger.info({ signal, drainMs }, 'stopping: ports closed, draining connections');
  const hurry = (): void => app.hurry();
  io.signals.once('SIGINT', hurry);
  io.signals.once('SIGTERM', hurry);
  await app.stop(drainMs);
  io.signals.off('SIGHUP', onHup);
  io.signals.off('SIGINT', hurry);
  io.signals.off('SIGTERM', hurry);
  logger.info({}, 'stopped');
  return ExitCode.OK;
}
