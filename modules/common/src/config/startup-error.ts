import type { ConfigProblem } from './schema-validator';

/** Stable codes of a module's startup error: the file gave no document, or the document was invalid. */
export type ConfigStartupErrorCode = 'CONFIG_FILE' | 'CONFIG_INVALID';

/** A module's first configuration could not be used: nothing was started (each module names its subclass). */
export class ConfigStartupError extends Error {
  override readonly name: string = 'ConfigStartupError';
  readonly retryable = false;

  constructor(
    readonly code: ConfigStartupErrorCode,
    message: string,
    /** Every problem of an invalid document, with its JSON pointer. */
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }
}

/** The message of a CONFIG_INVALID startup error: the file and how many problems it has. */
export function invalidConfigurationMessage(path: string, problemCount: number): string {
  return `${path}: invalid configuration (${problemCount} problem${problemCount === 1 ? '' : 's'})`;
}
