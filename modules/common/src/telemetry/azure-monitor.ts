import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { TelemetryError } from './errors';

/** What startAzureMonitor needs. The service name and version become OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES when unset. */
export interface AzureMonitorOptions {
  readonly connectionString: string;
  readonly serviceName: string;
  readonly serviceVersion?: string;
  readonly liveMetrics: boolean;
  readonly httpInstrumentation: boolean;
  /** Extra readers on the same MeterProvider (the Prometheus reader), so both outputs see the same instruments. */
  readonly metricReaders: MetricReader[];
}

/** The running Azure Monitor distro; its providers are the process-global OpenTelemetry ones. */
export interface AzureMonitorHandle {
  /** Flushes and stops the distro. Unbounded on its own (retries without network): callers race it with a timer. */
  shutdown(): Promise<void>;
}

/**
 * Loads @azure/monitor-opentelemetry (only now: it takes most of a second to load) and starts it with our choices:
 * Live Metrics and HTTP auto-instrumentation off unless asked for, service name as the cloud role.
 */
export function startAzureMonitor(options: AzureMonitorOptions): AzureMonitorHandle {
  let distro: typeof import('@azure/monitor-opentelemetry');
  try {
    distro = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  } catch (err) {
    throw new TelemetryError(
      'TELEMETRY_AZURE_MONITOR_UNAVAILABLE',
      'cannot load @azure/monitor-opentelemetry',
      false,
      {
        cause: err,
      },
    );
  }
  // A `resource` option would be copied over the distro's detected resource, dropping telemetry.sdk.* and
  // OTEL_RESOURCE_ATTRIBUTES (tried with 1.18.1), so the service identity goes in where the distro reads it itself.
  process.env.OTEL_SERVICE_NAME ??= options.serviceName;
  const resourceAttrs = process.env.OTEL_RESOURCE_ATTRIBUTES ?? '';
  if (options.serviceVersion !== undefined && !/(^|,)\s*service\.version=/.test(resourceAttrs)) {
    const version = `service.version=${encodeURIComponent(options.serviceVersion)}`;
    process.env.OTEL_RESOURCE_ATTRIBUTES = resourceAttrs ? `${resourceAttrs},${version}` : version;
  }
  distro.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: options.connectionString },
    enableLiveMetrics: options.liveMetrics,
    instrumentationOptions: { http: { enabled: options.httpInstrumentation } },
    metricReaders: options.metricReaders,
  });
  return { shutdown: () => distro.shutdownAzureMonitor() };
}
