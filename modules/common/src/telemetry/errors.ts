/** Stable error codes for telemetry, metrics-endpoint and health-server failures. */
export type TelemetryErrorCode =
  | 'TELEMETRY_BAD_SETTING'
  | 'TELEMETRY_LISTEN_FAILED'
  | 'TELEMETRY_ALREADY_STARTED'
  | 'TELEMETRY_AZURE_MONITOR_UNAVAILABLE';

/** One error class for observability plumbing: a stable `code` and whether a retry may help. */
export class TelemetryError extends Error {
  override readonly name = 'TelemetryError';

  constructor(
    readonly code: TelemetryErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
