/** Stable codes of TwinError. */
export type TwinErrorCode =
  /** No IoT Hub session right now; the module keeps running and reconnects. */
  | 'TWIN_NOT_CONNECTED'
  /** An IoT Hub operation (twin read, reported patch, output event) failed. */
  | 'TWIN_OPERATION_FAILED'
  /** An operation did not finish in time. */
  | 'TWIN_TIMEOUT'
  /** The twin plumbing was stopped. */
  | 'TWIN_STOPPED';

/** A failure of the module-twin plumbing, with a stable `code` and whether trying again may help. */
export class TwinError extends Error {
  override readonly name = 'TwinError';

  constructor(
    readonly code: TwinErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a TwinError, optionally with the given code. */
export function isTwinError(err: unknown, code?: TwinErrorCode): err is TwinError {
  return err instanceof TwinError && (code === undefined || err.code === code);
}

/** A short, secret-free description of an SDK error for logs and reported properties. */
export function describeSdkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // The SDK wraps transport errors in `results.Disconnected` / errors carrying `transportError`.
  const inner = (err as { transportError?: unknown }).transportError;
  const base = `${err.name}: ${err.message}`;
  return inner instanceof Error ? `${base} (${inner.name}: ${inner.message})` : base;
}
