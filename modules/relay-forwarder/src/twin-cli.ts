import { createLogger } from '../../common/src/log';
import { parseFailureExit, readRelayCa } from '../../common/src/module-cli/startup';
import { runUntilStopSignal } from '../../common/src/module-cli/stop-signals';
import { startExtensions } from '../../common/src/telemetry/module-observability';
import {
  checkModuleEnvironment,
  parseTwinCliArgs,
  twinSettingsFromEnv,
} from '../../common/src/twin/twin-process';
import { ExitCode, type CliIo } from './cli';
import { startForwarderFromTwin } from './twin-app';
import { STANDARD_USAGE_LINES } from '../../common/src/cli/command-line';

/** Default upper bound of the shutdown drain in twin mode (IoT Edge stops a module with SIGKILL 10 s after SIGTERM). */
export const SHUTDOWN_DRAIN_CAP_MS = 8_000;

/** Usage of twin mode (the IoT Edge default: no arguments). */
export const TWIN_USAGE = `Usage: relay-forwarder [--relay-ca <ca.pem>] [--log-level <level>] [--shutdown-drain-ms <ms>]
       relay-forwarder --config <file.json> …   (file mode)

Without --config the forwarder is configured by its module twin (desired properties, same schema as the
file) through ModuleClient.fromEnvironment: the IoT Edge workload API, or EdgeHubConnectionString /
IotHubConnectionString with EdgeModuleCACertificateFile outside IoT Edge. Environment: REPORTED_DEBOUNCE_MS,
REPORTED_REFRESH_MS, STATS_INTERVAL_MS, LOCATION, LOG_LEVEL, LOG_FORMAT=json|pretty
(see docs/twin-configuration.md, docs/observability.md).
${STANDARD_USAGE_LINES}`;

/**
 * Runs relay-forwarder in twin mode until SIGINT or SIGTERM (control channels close, tunnels drain for the
 * configured time or --shutdown-drain-ms; a second signal drains no longer), then resolves with the exit code.
 */
export async function runForwarderTwinCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseTwinCliArgs(argv);
  if (!parsed.ok) return parseFailureExit('relay-forwarder', TWIN_USAGE, parsed, io);
  const env = twinSettingsFromEnv(process.env);
  if (!env.ok) {
    io.stderr.write(`relay-forwarder: ${env.error}\n`);
    return ExitCode.CONFIG;
  }
  const unusable = checkModuleEnvironment(process.env);
  if (unusable !== undefined) {
    io.stderr.write(`relay-forwarder: ${unusable}\n`);
    return ExitCode.CONFIG;
  }
  const { args } = parsed;
  const log = io.log ?? createLogger('relay-forwarder', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const relayCa = readRelayCa('relay-forwarder', args.relayCaPath, io);
  if (!relayCa.ok) return relayCa.exitCode;
  const { ca } = relayCa;
  const app = startForwarderFromTwin({
    log,
    ...(ca !== undefined && { tls: { ca } }),
    reported: env.settings.reported,
    stats: env.settings.stats,
    ...(env.settings.location !== undefined && { location: env.settings.location }),
  });
  const extensions = await startExtensions(io.extensions ?? [], app.forwarder).catch(async (err: unknown) => {
    await app.stop(0);
    throw err;
  });
  log.info({ mode: 'twin' }, 'relay-forwarder started; waiting for the module twin');

  await runUntilStopSignal(io.signals, {
    // A second signal means "now": drain no longer.
    hurry: () => void app.forwarder.stop(0),
    stop: async (signal) => {
      log.info({ signal }, 'stopping: closing listeners and draining tunnels');
      // IoT Edge kills a module 10 s after SIGTERM: by default drain no longer than 8 s.
      await app.stop(
        args.shutdownDrainMs ?? Math.min(app.forwarder.config?.drainTimeoutMs ?? 0, SHUTDOWN_DRAIN_CAP_MS),
      );
      await extensions.stop();
    },
  });
  return ExitCode.OK;
}
