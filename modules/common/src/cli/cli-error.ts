import { ExitCode } from './exit-codes';

/**
 * An expected failure of a command (unreachable service, refused credential, bad file): printed as one line
 * `name: message` plus what to do, with `exitCode`; never with a stack trace unless --debug.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: number,
    message: string,
    /** What the operator should do about it, printed after the message. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A bad command line found after parsing (a value out of range): answered with the usage and exit 64. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.USAGE, message);
  }
}
