import { CliError, UsageError } from './cli-error';
import { ExitCode } from './exit-codes';

/**
 * Prints a failure that reached a command's top and returns its exit code. A {@link CliError} is one line with
 * what to do (and the usage for a {@link UsageError}, when given); anything else is a bug: one line, exit 70.
 * The stack (and causes) only with `debug`.
 */
export function failureExit(
  name: string,
  err: unknown,
  stderr: { write(text: string): unknown },
  debug: boolean,
  usage?: string,
): number {
  if (err instanceof CliError) {
    stderr.write(`${name}: ${err.message}${err.hint ? ` — ${err.hint}` : ''}\n`);
    if (err instanceof UsageError && usage !== undefined) stderr.write(`\n${usage}`);
    if (debug) stderr.write(stackText(err));
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(
    `${name}: unexpected failure: ${message}${debug ? '' : ' (a bug: run again with --debug for the stack trace and report it)'}\n`,
  );
  if (debug) stderr.write(stackText(err));
  return ExitCode.SOFTWARE;
}

function stackText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return `${parts.join('\ncaused by: ')}\n`;
}
