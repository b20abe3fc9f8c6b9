import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TelemetryError } from './errors';

/** What startAzureMonitor needs. */
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
  distro.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: options.connectionString },
    enableLiveMetrics: options.liveMetrics,
    instrumentationOptions: { http: { enabled: options.httpInstrumentation } },
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.serviceVersion !== undefined && { 'service.version': options.serviceVersion }),
    }),
    metricReaders: options.metricReaders,
  });
  return { shutdown: () => distro.shutdownAzureMonitor() };
}
