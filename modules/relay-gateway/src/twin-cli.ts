import { createLogger, type Logger } from '../../common/src/log';
import { parseFailureExit, readRelayCa } from '../../common/src/module-cli/startup';
import { runUntilStopSignal } from '../../common/src/module-cli/stop-signals';
import {
  checkModuleEnvironment,
  parseTwinCliArgs,
  twinSettingsFromEnv,
} from '../../common/src/twin/twin-process';
import { ExitCode, gatewayStopHandlers, type GatewayCliIo } from './cli';
import { startGatewayFromTwin } from './twin-app';
import { STANDARD_USAGE_LINES } from '../../common/src/cli/command-line';

/** Usage of twin mode (the IoT Edge default: no arguments). */
export const TWIN_USAGE = `Usage: relay-gateway [--relay-ca <ca.pem>] [--log-level <level>] [--shutdown-drain-ms <ms>]
       relay-gateway --config <file.json> …   (file mode: see relay-gateway --config x --help)

Without --config the gateway is configured by its module twin (desired properties, same schema as the
file) through ModuleClient.fromEnvironment: the IoT Edge workload API, or EdgeHubConnectionString /
IotHubConnectionString with EdgeModuleCACertificateFile outside IoT Edge. Environment: REPORTED_DEBOUNCE_MS,
REPORTED_REFRESH_MS, STATS_INTERVAL_MS, LOG_LEVEL, LOG_FORMAT=json|pretty
(see docs/twin-configuration.md, docs/observability.md).
${STANDARD_USAGE_LINES}`;

/**
 * Runs relay-gateway in twin mode until SIGINT or SIGTERM (ports close, live connections drain; a second signal
 * closes them now), then resolves with the exit code.
 */
export async function runGatewayTwinCli(argv: readonly string[], io: GatewayCliIo): Promise<number> {
  const parsed = parseTwinCliArgs(argv);
  if (!parsed.ok) return parseFailureExit('relay-gateway', TWIN_USAGE, parsed, io);
  const env = twinSettingsFromEnv(process.env);
  if (!env.ok) {
    io.stderr.write(`relay-gateway: ${env.error}\n`);
    return ExitCode.CONFIG;
  }
  const unusable = checkModuleEnvironment(process.env);
  if (unusable !== undefined) {
    io.stderr.write(`relay-gateway: ${unusable}\n`);
    return ExitCode.CONFIG;
  }
  const { args } = parsed;
  const logger: Logger =
    io.logger ?? createLogger('relay-gateway', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const relayCa = readRelayCa('relay-gateway', args.relayCaPath, io);
  if (!relayCa.ok) return relayCa.exitCode;
  const { ca } = relayCa;
  const app = await startGatewayFromTwin({
    logger,
    ...(ca !== undefined && { tls: { ca } }),
    reported: env.settings.reported,
    stats: env.settings.stats,
    ...(io.extensions && { extensions: io.extensions }),
  });
  logger.info({ mode: 'twin' }, 'relay-gateway started; waiting for the module twin');

  await runUntilStopSignal(io.signals, gatewayStopHandlers(app, args.shutdownDrainMs, logger));
  logger.info({}, 'stopped');
  return ExitCode.OK;
}
