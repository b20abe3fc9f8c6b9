/** Stable codes for what can go wrong in the status view. */
export type StatusErrorCode = 'STATUS_SOURCE_FAILED' | 'STATUS_BAD_OPTIONS' | 'STATUS_LISTEN_FAILED';

/** The status view's error: a stable `code`, whether retrying later may help, and the HTTP status if any. */
export class StatusError extends Error {
  override readonly name = 'StatusError';

  constructor(
    readonly code: StatusErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
