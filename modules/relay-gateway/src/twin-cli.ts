import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from '../../common/src/log';
import {
  checkModuleEnvironment,
  parseTwinCliArgs,
  twinSettingsFromEnv,
  waitForStopSignal,
} from '../../common/src/twin/twin-process';
import { DEFAULT_SHUTDOWN_DRAIN_MS, ExitCode, type GatewayCliIo } from './cli';
import { startGatewayFromTwin } from './twin-app';

/** Usage of twin mode (the IoT Edge default: no arguments). */
export const TWIN_USAGE = `Usage: relay-gateway [--relay-ca <ca.pem>] [--log-level <level>] [--shutdown-drain-ms <ms>]
       relay-gateway --config <file.json> …   (file mode: see relay-gateway --config x --help)

Without --config the gateway is configured by its module twin (desired properties, same schema as the
file) through ModuleClient.fromEnvironment: the IoT Edge workload API, or EdgeHubConnectionString /
IotHubConnectionString with EdgeModuleCACertificateFile outside IoT Edge. Environment: REPORTED_DEBOUNCE_MS,
REPORTED_REFRESH_MS, STATS_INTERVAL_MS, LOG_LEVEL (see docs/twin-configuration.md).
`;

/**
 * Runs relay-gateway in twin mode until SIGINT or SIGTERM (ports close, live connections drain; a second signal
 * closes them now), then resolves with the exit code.
 */
export async function runGatewayTwinCli(argv: readonly string[], io: GatewayCliIo): Promise<number> {
  const parsed = parseTwinCliArgs(argv);
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout.write(TWIN_USAGE);
      return ExitCode.OK;
    }
    io.stderr.write(`relay-gateway: ${parsed.error}\n${TWIN_USAGE}`);
    return ExitCode.USAGE;
  }
  const env = twinSettingsFromEnv(process.env);
  if (!env.ok) {
    io.stderr.write(`relay-gateway: ${env.error}\n`);
    return ExitCode.USAGE;
  }
  const unusable = checkModuleEnvironment(process.env);
  if (unusable !== undefined) {
    io.stderr.write(`relay-gateway: ${unusable}\n`);
    return ExitCode.CONFIG;
  }
  const { args } = parsed;
  const logger: Logger =
    io.logger ?? createLogger('relay-gateway', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
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
  const app = await startGatewayFromTwin({
    logger,
    ...(ca !== undefined && { tls: { ca } }),
    reported: env.settings.reported,
    stats: env.settings.stats,
    ...(io.extensions && { extensions: io.extensions }),
  });
  logger.info({ mode: 'twin' }, 'relay-gateway started; waiting for the module twin');

  const signal = await waitForStopSignal(io.signals);
  const drainMs =
    args.shutdownDrainMs ?? Math.min(app.gateway.currentConfig.drainTimeoutMs, DEFAULT_SHUTDOWN_DRAIN_MS);
  logger.info({ signal, drainMs }, 'stopping: ports closed, draining connections');
  const hurry = (): void => app.hurry();
  io.signals.once('SIGINT', hurry);
  io.signals.once('SIGTERM', hurry);
  await app.stop(drainMs);
  io.signals.off('SIGINT', hurry);
  io.signals.off('SIGTERM', hurry);
  logger.info({}, 'stopped');
  return ExitCode.OK;
}
