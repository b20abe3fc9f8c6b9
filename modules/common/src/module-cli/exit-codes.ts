/** Exit codes of both module processes (sysexits.h values, so scripts can tell them apart). */
export const ModuleExitCode = {
  OK: 0,
  /** Bad command line. */
  USAGE: 64,
  /** A file named on the command line could not be read. */
  NO_INPUT: 66,
  /** Internal software error: the entry point caught what the CLI threw. */
  SOFTWARE: 70,
  /** The first configuration was invalid: nothing was started. */
  CONFIG: 78,
} as const;
