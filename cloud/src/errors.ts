/** Stable codes for what can go wrong in the fleet controller. */
export type ControllerErrorCode =
  | 'CONTROLLER_BAD_SETTINGS'
  | 'CONTROLLER_ARM_FAILED'
  | 'CONTROLLER_RULE_NOT_FOUND'
  | 'CONTROLLER_HUB_FAILED'
  | 'CONTROLLER_ETAG_MISMATCH'
  | 'CONTROLLER_TWIN_NOT_FOUND'
  | 'CONTROLLER_NOT_CONVERGED'
  | 'CONTROLLER_ABORTED'
  | 'CONTROLLER_STOPPED'
  /** This replica does not hold the lease (any more): it must not write. */
  | 'CONTROLLER_NOT_LEADER'
  /** A twin carries a newer lease generation than this replica's: a newer leader wrote it. */
  | 'CONTROLLER_FENCED';

/** One error class for the controller: a stable `code`, whether retrying later may help, and the HTTP status if any. */
export class ControllerError extends Error {
  override readonly name = 'ControllerError';

  constructor(
    readonly code: ControllerErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a ControllerError, optionally with the given code. */
export function isControllerError(err: unknown, code?: ControllerErrorCode): err is ControllerError {
  return err instanceof ControllerError && (code === undefined || err.code === code);
}
