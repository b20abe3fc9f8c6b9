import {
  watchConfigFile,
  type ConfigFileResult,
  type ConfigFileWatch,
  type WatchConfigFileOptions,
} from '../../common/src/config/file-source';
import {
  ConfigStartupError,
  invalidConfigurationMessage,
  type ConfigStartupErrorCode,
} from '../../common/src/config/startup-error';
import type { RelayTlsOptions } from '../../common/src/hc/endpoint';
import type { Logger } from '../../common/src/log';
import { Gateway } from './gateway';
import { createRelayTunnelOpener, type TunnelOpener } from './tunnel-opener';

/** Something started beside the gateway (a health endpoint, a metrics exporter) and stopped after it. */
export interface GatewayExtension {
  stop(): Promise<void>;
}

/** Starts an extension once the gateway runs its first configuration. */
export type GatewayExtensionFactory = (gateway: Gateway) => Promise<GatewayExtension>;

/** Options for startGatewayFromFile. */
export interface GatewayFileAppOptions {
  /** The JSON configuration file, re-applied whenever it changes. */
  readonly configPath: string;
  readonly logger: Logger;
  /** Trust for the relay's TLS certificate (the sandbox CA); NODE_EXTRA_CA_CERTS works as well. */
  readonly tls?: RelayTlsOptions;
  /** Replaces the relay tunnel opener (tests of the file handling only). */
  readonly opener?: TunnelOpener;
  readonly watch?: WatchConfigFileOptions;
  /** Hooks for later features (health endpoint, metrics): started after the first apply, stopped after the gateway. */
  readonly extensions?: readonly GatewayExtensionFactory[];
}

/** A gateway driven by a configuration file. */
export interface GatewayFileApp {
  readonly gateway: Gateway;
  /** Reads the file again now (SIGHUP), which also retries routes whose port was taken. */
  reload(): void;
  /** Stops watching, stops the gateway (ports close, connections drain up to `drainTimeoutMs`), then the extensions. */
  stop(drainTimeoutMs?: number): Promise<void>;
  /** Closes every live connection now (a second stop signal). */
  hurry(): void;
}

/** Stable codes of GatewayStartupError. */
export type GatewayStartupErrorCode = ConfigStartupErrorCode;

/** The first configuration could not be used: nothing was started. */
export class GatewayStartupError extends ConfigStartupError {
  override readonly name = 'GatewayStartupError';
}

/**
 * Starts a gateway from a configuration file and keeps applying the file when it changes. Rejects with a
 * GatewayStartupError (leaving nothing running) when the first reading is unreadable or invalid; later bad
 * readings are logged and refused while the last good configuration keeps running.
 */
export function startGatewayFromFile(options: GatewayFileAppOptions): Promise<GatewayFileApp> {
  const { logger } = options;
  const opener =
    options.opener ?? createRelayTunnelOpener({ ...(options.tls && { tls: options.tls }), logger });
  const gateway = new Gateway({ opener, logger });
  const extensions: GatewayExtension[] = [];
  let watch: ConfigFileWatch | undefined;

  const app: GatewayFileApp = {
    gateway,
    reload: () => watch?.reload(),
    stop: async (drainTimeoutMs) => {
      watch?.close();
      await gateway.stop(drainTimeoutMs);
      opener.close?.();
      for (const extension of extensions.splice(0).reverse()) await extension.stop();
    },
    hurry: () => gateway.closeAllConnections(),
  };

  return new Promise<GatewayFileApp>((resolve, reject) => {
    let started = false;
    const onResult = (result: ConfigFileResult): void => {
      if (!result.ok) {
        if (!started) {
          watch?.close();
          reject(new GatewayStartupError('CONFIG_FILE', result.error.message));
          return;
        }
        gateway.refuseDocument([{ path: '', message: result.error.message }]);
        return;
      }
      const applying = gateway.applyDocument(result.document);
      if (started) return;
      started = true;
      void applying.then(async (applied) => {
        if (!applied.ok) {
          watch?.close();
          await gateway.stop(0);
          opener.close?.();
          const message = invalidConfigurationMessage(result.path, applied.problems.length);
          reject(new GatewayStartupError('CONFIG_INVALID', message, applied.problems));
          return;
        }
        try {
          for (const factory of options.extensions ?? []) extensions.push(await factory(gateway));
        } catch (err) {
          await app.stop(0);
          reject(err);
          return;
        }
        resolve(app);
      }, reject);
    };
    watch = watchConfigFile(options.configPath, onResult, options.watch);
  });
}
