import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../common/src/log';
import {
  startExtensions,
  type ModuleExtensionFactory,
} from '../../common/src/telemetry/module-observability';
import { startForwarderFromFile, StartupError, type ForwarderFileApp } from './file-app';
import type { Forwarder } from './forwarder';

/** Something started beside the forwarder once it runs (health endpoint, telemetry), stopped after it. */
export type ForwarderExtensionFactory = ModuleExtensionFactory<Forwarder>;

/** Exit codes of the relay-forwarder process (sysexits.h values, so scripts can tell them apart). */
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
export const USAGE = `Usage: relay-forwarder --config <file.json> [--relay-ca <ca.pem>] [--log-level <level>]

  --config      JSON configuration (see docs/relay-forwarder.md); re-applied when it changes,
                and on SIGHUP
  --relay-ca    extra CA certificate to trust for the relay (the sandbox); NODE_EXTRA_CA_CERTS also works
  --log-level   fatal|error|warn|info|debug|trace|silent (default LOG_LEVEL, else info; the file's
                logLevel wins once applied)
`;

/** Parsed command line. */
export interface CliArgs {
  readonly configPath: string;
  readonly relayCaPath?: string;
  readonly logLevel?: string;
}

/** Parses argv (without node and script); returns an error text instead of throwing. */
export function parseCliArgs(
  argv: readonly string[],
): { ok: true; args: CliArgs } | { ok: false; help: boolean; error?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        'relay-ca': { type: 'string' },
        'log-level': { type: 'string' },
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
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (values['log-level'] !== undefined && !levels.includes(values['log-level']))
    return { ok: false, help: false, error: `--log-level must be one of ${levels.join(', ')}` };
  return {
    ok: true,
    args: {
      configPath: values.config,
      ...(values['relay-ca'] !== undefined && { relayCaPath: values['relay-ca'] }),
      ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
    },
  };
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
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout.write(USAGE);
      return ExitCode.OK;
    }
    io.stderr.write(`relay-forwarder: ${parsed.error}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const { args } = parsed;
  const defaultLevel = args.logLevel ?? process.env.LOG_LEVEL ?? 'info';
  const log = io.log ?? createLogger('relay-forwarder', defaultLevel);
  let ca: string | undefined;
  if (args.relayCaPath !== undefined) {
    try {
      ca = readFileSync(args.relayCaPath, 'utf8');
    } catch (err) {
      io.stderr.write(
        `relay-forwarder: cannot read --relay-ca ${args.relayCaPath}: ${(err as NodeJS.ErrnoException).code ?? err}\n`,
      );
      return ExitCode.NO_INPUT;
    }
  }

  let app: ForwarderFileApp;
  try {
    app = await startForwarderFromFile({
      configPath: args.configPath,
      log,
      ...(ca !== undefined && { tls: { ca } }),
    });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    io.stderr.write(`relay-forwarder: ${err.message}\n`);
    for (const problem of err.problems) io.stderr.write(`  ${problem.path || '/'}: ${problem.message}\n`);
    return err.code === 'CONFIG_FILE' ? ExitCode.NO_INPUT : ExitCode.CONFIG;
  }
  const extensions = await startExtensions(io.extensions ?? [], app.forwarder).catch(async (err: unknown) => {
    await app.stop(0);
    throw err;
  });
  const onHup = (): void => app.reload();
  io.signals.on('SIGHUP', onHup);

  const signal = await new Promise<string>((resolve) => {
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const done = (name: string): void => {
      io.signals.off('SIGINT', onInt);
      io.signals.off('SIGTERM', onTerm);
      resolve(name);
    };
    io.signals.on('SIGINT', onInt);
    io.signals.on('SIGTERM', onTerm);
  });
  log.info({ signal }, 'stopping: closing listeners and draining tunnels');
  // A second signal means "now": drain no longer.
  const hurry = (): void => void app.stop(0);
  io.signals.on('SIGINT', hurry);
  io.signals.on('SIGTERM', hurry);
  await app.stop();
  await extensions.stop();
  io.signals.off('SIGHUP', onHup);
  io.signals.off('SIGINT', hurry);
  io.signals.off('SIGTERM', hurry);
  return ExitCode.OK;
}
