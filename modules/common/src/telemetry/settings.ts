import { TelemetryError } from './errors';

/** Telemetry settings read from the environment (see docs/observability.md for each variable). */
export interface TelemetrySettings {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING: when set, export to Azure Monitor. */
  readonly connectionString?: string;
  /** AZURE_MONITOR_LIVE_METRICS=true turns Live Metrics on (off by default: it streams continuously). */
  readonly liveMetrics: boolean;
  /** AZURE_MONITOR_HTTP_INSTRUMENTATION=true traces every HTTP request (off: probes and scrapes would flood it). */
  readonly httpInstrumentation: boolean;
  /** METRICS_PORT: serve Prometheus `/metrics` on this port (0 = any free port); unset = no endpoint. */
  readonly metricsPort?: number;
  /** METRICS_BIND_ADDRESS: address for `/metrics`; loopback unless widened on purpose. */
  readonly metricsBindAddress: string;
  /** OTEL_SERVICE_NAME, when set, overrides the service name the process passes in. */
  readonly serviceName?: string;
}

/** Loopback: the metrics endpoint is opt-in and private unless METRICS_BIND_ADDRESS widens it. */
export const DEFAULT_METRICS_BIND_ADDRESS = '127.0.0.1';

/** Reads and validates telemetry settings; throws TELEMETRY_BAD_SETTING naming the variable at fault. */
export function telemetrySettingsFromEnv(env: NodeJS.ProcessEnv): TelemetrySettings {
  return {
    connectionString: nonEmpty(env.APPLICATIONINSIGHTS_CONNECTION_STRING),
    liveMetrics: parseBoolean(env, 'AZURE_MONITOR_LIVE_METRICS', false),
    httpInstrumentation: parseBoolean(env, 'AZURE_MONITOR_HTTP_INSTRUMENTATION', false),
    metricsPort: parsePort(env, 'METRICS_PORT'),
    metricsBindAddress: nonEmpty(env.METRICS_BIND_ADDRESS) ?? DEFAULT_METRICS_BIND_ADDRESS,
    serviceName: nonEmpty(env.OTEL_SERVICE_NAME),
  };
}

/** Reads a boolean variable (`true`/`false`/`1`/`0`, any case); unset or empty gives `fallback`. */
export function parseBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[name])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new TelemetryError('TELEMETRY_BAD_SETTING', `${name} must be true or false, got "${raw}"`, false);
}

/** Reads a TCP port (0–65535); unset or empty gives undefined. */
export function parsePort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new TelemetryError(
      'TELEMETRY_BAD_SETTING',
      `${name} must be a port number 0-65535, got "${raw}"`,
      false,
    );
  }
  return port;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
