/** Stable codes for management-surface failures of the sandbox relay. */
export type SandboxRelayErrorCode =
  | 'SANDBOX_RELAY_NOT_FOUND'
  | 'SANDBOX_RELAY_INVALID'
  | 'SANDBOX_RELAY_QUOTA'
  | 'SANDBOX_RELAY_UNAUTHORIZED'
  | 'SANDBOX_RELAY_FORBIDDEN'
  | 'SANDBOX_RELAY_STOPPED';

/** A management operation on the sandbox relay failed; `status` is the HTTP status the admin API answers with. */
export class SandboxRelayError extends Error {
  override readonly name = 'SandboxRelayError';

  constructor(
    readonly code: SandboxRelayErrorCode,
    message: string,
    readonly status: number,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** The named entity does not exist (404). */
export function notFound(what: string): SandboxRelayError {
  return new SandboxRelayError('SANDBOX_RELAY_NOT_FOUND', `${what} does not exist`, 404);
}

/** The request is malformed (400). */
export function invalid(detail: string): SandboxRelayError {
  return new SandboxRelayError('SANDBOX_RELAY_INVALID', detail, 400);
}
