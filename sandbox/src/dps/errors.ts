import { randomUUID } from 'node:crypto';

/** Stable codes of the sandbox DPS's refusals (the HTTP status carries the meaning on the wire). */
export type DpsErrorCode =
  | 'BadRequest'
  | 'Unauthorized'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'Conflict'
  | 'PreconditionFailed'
  | 'PayloadTooLarge'
  | 'InternalServerError';

const STATUS: Record<DpsErrorCode, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  InternalServerError: 500,
};

/** DPS's error body: `{errorCode, trackingId, message, timestampUtc}` (as seen on the wire from the service). */
export interface DpsErrorBody {
  errorCode: number;
  trackingId: string;
  message: string;
  timestampUtc: string;
}

/**
 * A refused DPS request. `errorCode` is DPS's six-digit code: the HTTP status times 1000 (401000 is what the
 * service sends for an unauthorized registration; finer sub-codes are not documented, so the sandbox uses none).
 */
export class DpsError extends Error {
  override readonly name = 'DpsError';
  readonly status: number;
  readonly errorCode: number;

  constructor(
    readonly code: DpsErrorCode,
    message: string,
    /** Whether repeating the request can succeed. */
    readonly retryable = code === 'InternalServerError',
  ) {
    super(message);
    this.status = STATUS[code];
    this.errorCode = this.status * 1000;
  }

  /** The JSON body the service answers with. */
  toBody(nowMs = Date.now()): DpsErrorBody {
    return {
      errorCode: this.errorCode,
      trackingId: randomUUID(),
      message: this.message,
      timestampUtc: new Date(nowMs).toISOString(),
    };
  }
}

/** Wraps anything thrown into a DpsError (unexpected failures become 500). */
export function toDpsError(err: unknown): DpsError {
  if (err instanceof DpsError) return err;
  return new DpsError('InternalServerError', (err as Error)?.message ?? String(err));
}
