import { ExitCode } from '../cli/exit-codes';

/** Exit codes of both module processes: the project's sysexits.h values (modules/common/src/cli/exit-codes.ts). */
export const ModuleExitCode = {
  OK: ExitCode.OK,
  /** Bad command line. */
  USAGE: ExitCode.USAGE,
  /** A file named on the command line could not be read. */
  NO_INPUT: ExitCode.NO_INPUT,
  /** Internal software error: the entry point caught what the CLI threw. */
  SOFTWARE: ExitCode.SOFTWARE,
  /** The first configuration was invalid: nothing was started. */
  CONFIG: ExitCode.CONFIG,
} as const;
