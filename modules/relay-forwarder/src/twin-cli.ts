import { readFileSync } from 'node:fs';
import { createLogger } from '../../common/src/log';
import { startExtensions } from '../../common/src/telemetry/module-observability';
import {
  checkModuleEnvironment,
  parseTwinCliArgs,
  twinSettingsFromEnv,
  waitForStopSignal,
} from '../../common/src/twin/twin-process';
import { ExitCode, type CliIo } from './cli';
import { startForwarderFromTwin } from './twin-app';

/** Default upper bound of the shutdown drain in twin mode (IoT Edge stops a module with SIGKILL 10 s after SIGTERM). */
export const SHUTDOWN_DRAIN_CAP_MS = 8_000;

/** Usage of twin mode (the IoT Edge default: no arguments). */
export const TWIN_USAGE = `Usage: relay-forwarder [--relay-ca <ca.pem>] [--log-level <level>] [--shutdown-drain-ms <ms>]
       relay-forwarder --config <file.json> …   (file mode)

Without --config the forwarder is configured by its module twin (desired properties, same schema as the
file) through ModuleClient.fromEnvironment: the IoT Edge workload API, or EdgeHubConnectionString /
IotHubConnectionString with EdgeModuleCACertificateFile outside IoT Edge. Environment: REPORTED_DEBOUNCE_MS,
REPORTED_REFRESH_MS, STATS_INTERVAL_MS, LOCATION, LOG_LEVEL (see docs/twin-configuration.md).
`;

/**
 * Runs relay-forwarder in twin mode until SIGINT or SIGTERM (control channels close, tunnels drain for the
 * configured time or --shutdown-drain-ms; a second signal drains no longer), then resolves with the exit code.
 */
export async function runForwarderTwinCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseTwinCliArgs(argv);
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout.write(TWIN_USAGE);
      return ExitCode.OK;
    }
    io.stderr.write(`relay-forwarder: ${parsed.error}\n${TWIN_USAGE}`);
    return ExitCode.USAGE;
  }
  const env = twinSettingsFromEnv(process.env);
  if (!env.ok) {
    io.stderr.write(`relay-forwarder: ${env.error}\n`);
    return ExitCode.USAGE;
  }
  const unusable = checkModuleEnvironment(process.env);
  if (unusable !== undefined) {
    io.stderr.write(`relay-forwarder: ${unusable}\n`);
    return ExitCode.CONFIG;
  }
  const { args } = parsed;
  const log = io.log ?? createLogger('relay-forwarder', args.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  let ca: string | undefined;
  if (args.relayCaPath !== undefined) {
    try {
      ca = readFileSync(args.relayCaPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      io.stderr.write(`relay-forwarder: cannot read --relay-ca ${args.relayCaPath}: ${code}\n`);
      return ExitCode.NO_INPUT;
    }
  }
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

  const signal = await waitForStopSignal(io.signals);
  log.info({ signal }, 'stopping: closing listeners and draining tunnels');
  // A second signal means "now": drain no longer.
  const hurry = (): void => void app.forwarder.stop(0);
  io.signals.on('SIGINT', hurry);
  io.signals.on('SIGTERM', hurry);
  // IoT Edge kills a module 10 s after SIGTERM: by default drain no longer than 8 s.
  await app.stop(
    args.shutdownDrainMs ?? Math.min(app.forwarder.config?.drainTimeoutMs ?? 0, SHUTDOWN_DRAIN_CAP_MS),
  );
  await extensions.stop();
  io.signals.off('SIGINT', hurry);
  io.signals.off('SIGTERM', hurry);
  return ExitCode.OK;
}
