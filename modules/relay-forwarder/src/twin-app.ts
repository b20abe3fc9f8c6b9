import type { Logger } from '../../common/src/log';
import { moduleIdentityFromEnvironment, type ModuleIdentity } from '../../common/src/twin/module-client';
import { readModuleVersion } from '../../common/src/twin/module-info';
import { TwinRunner, type TwinRunnerOptions } from '../../common/src/twin/twin-runner';
import { Forwarder, type ForwarderOptions } from './forwarder';
import { ForwarderTwinModule } from './twin-module';

/** The module name in reported properties, stats messages and the image's package.json. */
export const FORWARDER_MODULE_NAME = 'relay-forwarder';

/** Options for startForwarderFromTwin. */
export interface ForwarderTwinAppOptions extends ForwarderOptions {
  /** IoT Hub session settings; by default `ModuleClient.fromEnvironment(Mqtt)` with 1–30 s reconnect backoff. */
  readonly connection?: TwinRunnerOptions['connection'];
  readonly reported?: TwinRunnerOptions['reported'];
  readonly stats?: TwinRunnerOptions['stats'];
  /** Device and module ids for reports; default from the environment. */
  readonly identity?: ModuleIdentity;
  /** Location id on stats messages; default the device id (one forwarder device per location). */
  readonly location?: string;
}

/** A forwarder driven by its module twin. */
export interface ForwarderTwinApp {
  readonly forwarder: Forwarder;
  readonly runner: TwinRunner;
  readonly module: ForwarderTwinModule;
  /** Stops the twin (no more applies or reports), then the forwarder (control channels close, tunnels drain). */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/**
 * Starts relay-forwarder in twin mode: no hybrid connection until the first desired document arrives, then
 * every desired version applied by difference (invalid ones refused, with their problems reported), and
 * forwarding continues on the last configuration while IoT Hub is unreachable.
 */
export function startForwarderFromTwin(options: ForwarderTwinAppOptions): ForwarderTwinApp {
  const log: Logger = options.log;
  const forwarder = new Forwarder(options);
  const identity = options.identity ?? moduleIdentityFromEnvironment(process.env);
  const location = options.location ?? identity.deviceId;
  const module = new ForwarderTwinModule(forwarder, location);
  const runner = new TwinRunner({
    module,
    info: {
      name: FORWARDER_MODULE_NAME,
      version: readModuleVersion(FORWARDER_MODULE_NAME, __dirname),
      startedAtMs: Date.now(),
    },
    identity,
    ...(location !== undefined && { location }),
    logger: log,
    ...(options.connection && { connection: options.connection }),
    ...(options.reported && { reported: options.reported }),
    ...(options.stats && { stats: options.stats }),
  });
  runner.start();
  let stopping: Promise<void> | undefined;
  return {
    forwarder,
    runner,
    module,
    stop: (drainTimeoutMs) =>
      (stopping ??= (async () => {
        await runner.stop();
        await forwarder.stop(drainTimeoutMs);
      })()),
  };
}
