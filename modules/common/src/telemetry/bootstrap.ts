import { context, Meter, metrics, propagation, trace, Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { HttpEndpoint } from '../health/http-endpoint';
import type { Logger } from '../log';
import { AzureMonitorHandle, startAzureMonitor } from './azure-monitor';
import { TelemetryError } from './errors';
import { startMetricsEndpoint } from './metrics-endpoint';
import { createRelayMetrics, RelayMetrics } from './metrics';
import { PrometheusReader } from './prometheus-reader';
import { telemetrySettingsFromEnv } from './settings';

/** Instrumentation scope name for everything our code records. */
export const INSTRUMENTATION_SCOPE = 'hybrid-relay-fleet';

/** Default bound on shutdown: short enough to fit the container stop grace period next to draining connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2_000;

/** What a process passes to startTelemetry. */
export interface TelemetryOptions {
  /** relay-gateway, relay-forwarder, fleet-controller, sandbox: the cloud role name and the `module` attribute. */
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** Environment to read settings from; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/** How shutdown went: `completed` is false when the bound cut it short (telemetry may be lost, exit is not delayed). */
export interface TelemetryShutdownResult {
  readonly completed: boolean;
  readonly elapsedMs: number;
}

/** Telemetry for one process: the meter, tracer and typed metrics facade, plus a bounded shutdown. */
export interface Telemetry {
  /** `azure-monitor` when a connection string was set, else `local` (metrics only, for /metrics and tests). */
  readonly mode: 'azure-monitor' | 'local';
  readonly meter: Meter;
  readonly tracer: Tracer;
  readonly metrics: RelayMetrics;
  /** Where `/metrics` listens, when METRICS_PORT is set. */
  readonly metricsEndpoint?: { readonly host: string; readonly port: number };
  /**
   * Flushes and stops telemetry, resolving within `timeoutMs` even when the exporter cannot reach the network.
   * The exporter may still hold timers afterwards: process entries exit explicitly once their own cleanup is done.
   */
  shutdown(timeoutMs?: number): Promise<TelemetryShutdownResult>;
}

let azureMonitorActive = false;

/**
 * Starts telemetry for a process. With APPLICATIONINSIGHTS_CONNECTION_STRING it loads and starts the Azure Monitor
 * distro (global providers, traces and metrics exported); without it, a plain MeterProvider. METRICS_PORT adds a
 * Prometheus `/metrics` endpoint in either mode.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const settings = telemetrySettingsFromEnv(options.env ?? process.env);
  const serviceName = settings.serviceName ?? options.serviceName;
  const prometheus = settings.metricsPort === undefined ? undefined : new PrometheusReader();

  let meter: Meter;
  let tracer: Tracer;
  let stopProviders: () => Promise<void>;
  let mode: Telemetry['mode'];
  if (settings.connectionString) {
    if (azureMonitorActive) {
      throw new TelemetryError(
        'TELEMETRY_ALREADY_STARTED',
        'Azure Monitor telemetry is already running',
        false,
      );
    }
    const azure: AzureMonitorHandle = startAzureMonitor({
      connectionString: settings.connectionString,
      serviceName,
      serviceVersion: options.serviceVersion,
      liveMetrics: settings.liveMetrics,
      httpInstrumentation: settings.httpInstrumentation,
      metricReaders: prometheus ? [prometheus] : [],
    });
    azureMonitorActive = true;
    mode = 'azure-monitor';
    meter = metrics.getMeter(INSTRUMENTATION_SCOPE, options.serviceVersion);
    tracer = trace.getTracer(INSTRUMENTATION_SCOPE, options.serviceVersion);
    stopProviders = async () => {
      try {
        await azure.shutdown();
      } finally {
        releaseGlobals();
      }
    };
  } else {
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      readers: prometheus ? [prometheus] : [],
    });
    mode = 'local';
    meter = provider.getMeter(INSTRUMENTATION_SCOPE, options.serviceVersion);
    // No exporter means no trace backend: the API's tracer (a no-op unless something registered a provider).
    tracer = trace.getTracer(INSTRUMENTATION_SCOPE, options.serviceVersion);
    stopProviders = () => provider.shutdown();
  }

  let endpoint: HttpEndpoint | undefined;
  if (prometheus && settings.metricsPort !== undefined) {
    try {
      endpoint = await startMetricsEndpoint(prometheus, {
        port: settings.metricsPort,
        host: settings.metricsBindAddress,
      });
    } catch (err) {
      await settleWithin(stopProviders(), DEFAULT_SHUTDOWN_TIMEOUT_MS);
      throw err;
    }
  }
  options.logger?.info(
    {
      mode,
      liveMetrics: settings.liveMetrics,
      metricsEndpoint: endpoint && `${endpoint.host}:${endpoint.port}`,
    },
    'telemetry started',
  );

  let stopping: Promise<TelemetryShutdownResult> | undefined;
  const shutdown = (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<TelemetryShutdownResult> =>
    (stopping ??= (async () => {
      const started = performance.now();
      const work = Promise.all([endpoint?.close(), stopProviders()]).catch((err: unknown) => {
        options.logger?.warn({ err }, 'telemetry shutdown failed');
      });
      const completed = await settleWithin(work, timeoutMs);
      const elapsedMs = Math.round(performance.now() - started);
      if (completed) options.logger?.info({ elapsedMs }, 'telemetry stopped');
      else
        options.logger?.warn(
          { elapsedMs, timeoutMs },
          'telemetry shutdown cut short; unsent telemetry dropped',
        );
      return { completed, elapsedMs };
    })());

  return {
    mode,
    meter,
    tracer,
    metrics: createRelayMetrics(meter, { module: options.serviceName }),
    metricsEndpoint: endpoint && { host: endpoint.host, port: endpoint.port },
    shutdown,
  };
}

// The distro registers process-global providers; dropping them lets a later start (tests, restarts) register anew.
function releaseGlobals(): void {
  metrics.disable();
  trace.disable();
  propagation.disable();
  context.disable();
  azureMonitorActive = false;
}

/** Resolves true when `work` settles within `timeoutMs`, false otherwise; the timer never keeps the process alive. */
export function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  const done = work.then(
    () => true,
    () => true,
  );
  return Promise.race([done, deadline]).finally(() => clearTimeout(timer));
}
