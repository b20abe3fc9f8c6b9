import type { RelayTlsOptions } from '../../common/src/hc/endpoint';
import type { Logger } from '../../common/src/log';
import { moduleIdentityFromEnvironment, type ModuleIdentity } from '../../common/src/twin/module-client';
import { readModuleVersion } from '../../common/src/twin/module-info';
import { TwinRunner, type TwinRunnerOptions } from '../../common/src/twin/twin-runner';
import type { GatewayExtension, GatewayExtensionFactory } from './file-app';
import { Gateway } from './gateway';
import { createRelayTunnelOpener, type TunnelOpener } from './tunnel-opener';
import { GatewayTwinModule } from './twin-module';

/** The module name in reported properties, stats messages and the image's package.json. */
export const GATEWAY_MODULE_NAME = 'relay-gateway';

/** Options for startGatewayFromTwin. */
export interface GatewayTwinAppOptions {
  readonly logger: Logger;
  /** Trust for the relay's TLS certificate (the sandbox CA); NODE_EXTRA_CA_CERTS works as well. */
  readonly tls?: RelayTlsOptions;
  /** Replaces the relay tunnel opener (tests of the twin handling only). */
  readonly opener?: TunnelOpener;
  /** IoT Hub session settings; by default `ModuleClient.fromEnvironment(Mqtt)` with 1–30 s reconnect backoff. */
  readonly connection?: TwinRunnerOptions['connection'];
  readonly reported?: TwinRunnerOptions['reported'];
  readonly stats?: TwinRunnerOptions['stats'];
  /** Device and module ids for reports; default from the environment. */
  readonly identity?: ModuleIdentity;
  /** Started at once (twin mode may wait long for its first configuration), stopped after the gateway. */
  readonly extensions?: readonly GatewayExtensionFactory[];
}

/** A gateway driven by its module twin. */
export interface GatewayTwinApp {
  readonly gateway: Gateway;
  readonly runner: TwinRunner;
  readonly module: GatewayTwinModule;
  /** Stops the twin (no more applies or reports), then the gateway (ports close, connections drain), then extensions. */
  stop(drainTimeoutMs?: number): Promise<void>;
  /** Closes every live connection now (a second stop signal). */
  hurry(): void;
}

/**
 * Starts relay-gateway in twin mode: it runs with no routes until the first desired document arrives, applies
 * every desired version by difference (refusing invalid ones with their problems in reported properties), and
 * keeps forwarding on its last configuration while IoT Hub is unreachable.
 */
export async function startGatewayFromTwin(options: GatewayTwinAppOptions): Promise<GatewayTwinApp> {
  const { logger } = options;
  const opener =
    options.opener ?? createRelayTunnelOpener({ ...(options.tls && { tls: options.tls }), logger });
  const gateway = new Gateway({ opener, logger });
  const module = new GatewayTwinModule(gateway);
  const runner = new TwinRunner({
    module,
    info: {
      name: GATEWAY_MODULE_NAME,
      version: readModuleVersion(GATEWAY_MODULE_NAME, __dirname),
      startedAtMs: Date.now(),
    },
    identity: options.identity ?? moduleIdentityFromEnvironment(process.env),
    logger,
    ...(options.connection && { connection: options.connection }),
    ...(options.reported && { reported: options.reported }),
    ...(options.stats && { stats: options.stats }),
  });
  const extensions: GatewayExtension[] = [];
  try {
    for (const factory of options.extensions ?? []) extensions.push(await factory(gateway));
  } catch (err) {
    await gateway.stop(0);
    opener.close?.();
    for (const extension of extensions.reverse()) await extension.stop();
    throw err;
  }
  runner.start();
  let stopping: Promise<void> | undefined;
  return {
    gateway,
    runner,
    module,
    stop: (drainTimeoutMs) =>
      (stopping ??= (async () => {
        await runner.stop();
        await gateway.stop(drainTimeoutMs);
        opener.close?.();
        for (const extension of extensions.splice(0).reverse()) await extension.stop();
      })()),
    hurry: () => gateway.closeAllConnections(),
  };
}
