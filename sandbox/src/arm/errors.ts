/** Stable error codes of the sandbox ARM API: ARM's own `error.code` values, so SDK callers see what Azure sends. */
export type ArmErrorCode =
  | 'AuthenticationFailed'
  | 'InvalidAuthenticationToken'
  | 'ExpiredAuthenticationToken'
  | 'InvalidAuthenticationTokenAudience'
  | 'MissingApiVersionParameter'
  | 'NoRegisteredProviderFound'
  | 'SubscriptionNotFound'
  | 'ResourceGroupNotFound'
  | 'ResourceNotFound'
  | 'NotFound'
  | 'InvalidResourceType'
  | 'MethodNotAllowed'
  | 'BadRequest'
  | 'InvalidRequestContent'
  | 'QuotaExceeded'
  | 'Conflict'
  | 'InternalServerError';

/** A failed ARM request: HTTP status plus ARM's `{ error: { code, message } }` body. */
export class ArmError extends Error {
  override readonly name = 'ArmError';

  constructor(
    readonly status: number,
    readonly code: ArmErrorCode,
    message: string,
    /** Whether repeating the same request can succeed (only server-side failures). */
    readonly retryable = status >= 500,
  ) {
    super(message);
  }

  /** The response body ARM sends for this error. */
  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** True when `err` is an ArmError. */
export function isArmError(err: unknown): err is ArmError {
  return err instanceof ArmError;
}
