// The process-level observability both relay modules share: telemetry and the health endpoint, started when the
// module hands over its runtime object (so `--help` or an invalid first configuration start nothing), marked not
// ready on the first stop signal, and shut down within a bound before the entry file exits.
import { healthSettingsFromEnv, startHealthServer, type HealthServer } from '../health/health-server';
import { siblingPortsFromEnv, withSiblings } from '../health/sibling-readiness';
import type { ReadinessCheck } from '../health/readiness';
import { createLogger, type Logger } from '../log';
import { startTelemetry, type Telemetry } from './bootstrap';

/** Readiness a module provides: attachable to its runtime object, with a shutting-down mark. */
export interface AttachableReadiness<T> {
  readonly check: ReadinessCheck;
  attach(target: T): () => void;
  shuttingDown(): void;
  close(): void;
}

/** Options for createModuleObservability. */
export interface ModuleObservabilityOptions<T> {
  /** relay-gateway or relay-forwarder: the service name and logger name. */
  readonly serviceName: string;
  /** HEALTH_PORT when unset (8080 gateway, 8081 forwarder). */
  readonly defaultHealthPort: number;
  readonly readiness: AttachableReadiness<T>;
  /** Binds metrics and spans to the runtime object; returns the detach function. */
  readonly attachTelemetry: (target: T, telemetry: Telemetry) => () => void;
  /** Environment for settings; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Once the module runs, the first SIGTERM or SIGINT here marks it not ready (pass `process`). */
  readonly signals?: NodeJS.EventEmitter;
}

/** What is running once the module attached. */
export interface StartedObservability {
  readonly telemetry: Telemetry;
  readonly health: HealthServer;
}

/** Telemetry, health endpoint and readiness of one module process. */
export interface ModuleObservability<T> {
  readonly readiness: AttachableReadiness<T>;
  /**
   * For the CLI's `extensions`: starts telemetry and the health endpoint on first use, binds them to the runtime
   * object, and returns what detaches them (called after the module stopped). Rejects with a TelemetryError
   * (TELEMETRY_BAD_SETTING, TELEMETRY_LISTEN_FAILED) when they cannot start.
   */
  extension(target: T): Promise<{ stop(): Promise<void> }>;
  /** What is running, once the extension ran (undefined before). */
  started(): Promise<StartedObservability | undefined>;
  /** Closes the health endpoint and shuts telemetry down within `timeoutMs` (default 2 s). Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Creates (without starting anything) the observability of a module process. */
export function createModuleObservability<T>(options: ModuleObservabilityOptions<T>): ModuleObservability<T> {
  const { readiness, signals } = options;
  const env = options.env ?? process.env;
  let starting: Promise<StartedObservability> | undefined;
  let stopping: Promise<void> | undefined;

  // Registered only once the module runs: a listener added earlier would swallow a SIGTERM that arrives before
  // the CLI listens, and the process would not stop.
  const onSignal = (): void => readiness.shuttingDown();

  const start = async (): Promise<StartedObservability> => {
    const logger = options.logger ?? createLogger(options.serviceName);
    // Read first, so a malformed HEALTH_PORT leaves nothing to clean up.
    const healthSettings = healthSettingsFromEnv(env, options.defaultHealthPort);
    // HEALTH_SIBLING_PORTS: the probe's answer covers the other relay-gateway modules of this host too.
    const siblings = siblingPortsFromEnv(env);
    const telemetry = await startTelemetry({ serviceName: options.serviceName, env, logger });
    try {
      const health = await startHealthServer({
        ...healthSettings,
        readiness: withSiblings(readiness.check, { ports: siblings }),
      });
      logger.info({ host: health.host, port: health.port }, 'health endpoint listening');
      return { telemetry, health };
    } catch (err) {
      await telemetry.shutdown();
      throw err;
    }
  };

  return {
    readiness,
    async extension(target) {
      const { telemetry } = await (starting ??= start());
      if (!stopping && signals && !signals.listeners('SIGTERM').includes(onSignal)) {
        signals.once('SIGTERM', onSignal);
        signals.once('SIGINT', onSignal);
      }
      const detachTelemetry = options.attachTelemetry(target, telemetry);
      const detachReadiness = readiness.attach(target);
      return {
        stop: () => {
          detachReadiness();
          detachTelemetry();
          return Promise.resolve();
        },
      };
    },
    started: () => (starting ? starting.catch(() => undefined) : Promise.resolve(undefined)),
    shutdown: (timeoutMs) =>
      (stopping ??= (async () => {
        signals?.off('SIGTERM', onSignal);
        signals?.off('SIGINT', onSignal);
        readiness.shuttingDown();
        readiness.close();
        const running = await (starting?.catch(() => undefined) ?? Promise.resolve(undefined));
        if (!running) return;
        await running.health.close();
        await running.telemetry.shutdown(timeoutMs);
      })()),
  };
}

/** Something started beside a module's runtime object (health endpoint, telemetry) and stopped after it. */
export type ModuleExtensionFactory<T> = (target: T) => Promise<{ stop(): Promise<void> }>;

/**
 * Starts `factories` in order on `target`; the returned `stop` stops them in reverse. When one fails, those already
 * started are stopped and the error is rethrown.
 */
export async function startExtensions<T>(
  factories: readonly ModuleExtensionFactory<T>[],
  target: T,
): Promise<{ stop(): Promise<void> }> {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stop = async (): Promise<void> => {
    for (const extension of started.splice(0).reverse()) await extension.stop();
  };
  try {
    for (const factory of factories) started.push(await factory(target));
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}
