// The telemetry surface modules import. Importing it does not load @azure/monitor-opentelemetry (that happens in
// startTelemetry, and only when a connection string is set).
export {
  startTelemetry,
  settleWithin,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  INSTRUMENTATION_SCOPE,
} from './bootstrap';
export type { Telemetry, TelemetryOptions, TelemetryShutdownResult } from './bootstrap';
export { createRelayMetrics } from './metrics';
export type {
  RelayMetrics,
  RelayMetricsOptions,
  TunnelAttributes,
  ListenerAttributes,
  TunnelMeter,
  Outcome,
} from './metrics';
export { ATTR, DIRECTIONS, INSTRUMENTS, LATENCY_BUCKETS_MS, REFUSAL_REASONS } from './instruments';
export type { Direction, InstrumentSpec, RefusalReason } from './instruments';
export {
  endTunnelSpan,
  setTrackingId,
  SPAN_ATTR,
  startTunnelSpan,
  traceHeaders,
  traceReconcile,
} from './tracing';
export type { HeaderBag, TunnelSpanOptions, TunnelSpanResult } from './tracing';
export { isSecretFieldName, REDACTED, redactSecrets, scrubSecrets } from './redact';
export { TelemetryError } from './errors';
export type { TelemetryErrorCode } from './errors';
export { telemetrySettingsFromEnv } from './settings';
export type { TelemetrySettings } from './settings';
