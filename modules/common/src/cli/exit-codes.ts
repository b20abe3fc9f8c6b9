/**
 * Exit codes of every command of the project (sysexits.h values, used the same way everywhere so scripts can
 * tell failures apart). 1 is kept for "ran, but the outcome is a failure" (a check that failed, a reconcile that
 * did not converge, a bench variant that failed).
 */
export const ExitCode = {
  OK: 0,
  /** Ran to the end, but what it checked failed (documented per command). */
  FAILED: 1,
  /** Bad command line: unknown flag, bad value, missing argument. The usage is printed. */
  USAGE: 64,
  /** The input data was wrong: a file or a remote state that cannot be used as it is. */
  DATA: 65,
  /** A file named on the command line cannot be read. */
  NO_INPUT: 66,
  /** A service it needs cannot be reached or failed (IoT Hub, DPS, ARM, a running fleet). */
  UNAVAILABLE: 69,
  /** A bug: something threw that no one expected (the stack is printed with --debug). */
  SOFTWARE: 70,
  /** An output file cannot be created. */
  CANT_CREATE: 73,
  /** Reading or writing a file failed. */
  IO: 74,
  /** A temporary failure (a concurrent change): running again may succeed. */
  TEMP_FAIL: 75,
  /** A credential was refused (wrong key, missing permission). */
  NO_PERM: 77,
  /** The configuration is unusable (the first configuration file, the environment of a module). */
  CONFIG: 78,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
