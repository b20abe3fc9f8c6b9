import { parseCommandLine } from '../cli/command-line';
import { LOG_LEVELS } from '../log';

/** A module command line: `configPath` only in file mode, `shutdownDrainMs` only where the mode offers it. */
export interface ModuleCliArgs {
  readonly configPath?: string;
  readonly relayCaPath?: string;
  readonly logLevel?: string;
  readonly shutdownDrainMs?: number;
}

/**
 * The parsed command line, or why not (`help`: --help was asked for; `version`: --version; `error`: what is
 * wrong). `--debug` is accepted (stack traces on unexpected failures) and read by the entry point.
 */
export type ParsedModuleArgs<T> =
  { ok: true; args: T } | { ok: false; help: boolean; version?: boolean; error?: string };

/** Which options a mode accepts. */
export interface ModuleArgsOptions {
  /** File mode: `--config`/`-c` is accepted and required. */
  readonly config: boolean;
  /** `--shutdown-drain-ms` is accepted. */
  readonly shutdownDrain: boolean;
}

/** Parses a module's argv (without node and script); returns an error text instead of throwing. */
export function parseModuleArgs(
  argv: readonly string[],
  accepts: ModuleArgsOptions,
): ParsedModuleArgs<ModuleCliArgs> {
  const line = parseCommandLine(argv, {
    ...(accepts.config && { config: { type: 'string', short: 'c' } as const }),
    'relay-ca': { type: 'string' },
    'log-level': { type: 'string' },
    ...(accepts.shutdownDrain && { 'shutdown-drain-ms': { type: 'string' } as const }),
  });
  if (line.kind === 'error') return { ok: false, help: false, error: line.error };
  if (line.kind === 'help') return { ok: false, help: true };
  if (line.kind === 'version') return { ok: false, help: false, version: true };
  const { values } = line;
  const config = values.config as string | undefined;
  if (accepts.config && !config) return { ok: false, help: false, error: '--config is required' };
  const level = values['log-level'] as string | undefined;
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    return { ok: false, help: false, error: `--log-level must be one of ${LOG_LEVELS.join(', ')}` };
  const drain = values['shutdown-drain-ms'] as string | undefined;
  if (drain !== undefined && !/^[0-9]{1,7}$/.test(drain))
    return { ok: false, help: false, error: '--shutdown-drain-ms must be a whole number of milliseconds' };
  const relayCa = values['relay-ca'] as string | undefined;
  return {
    ok: true,
    args: {
      ...(config !== undefined && { configPath: config }),
      ...(relayCa !== undefined && { relayCaPath: relayCa }),
      ...(level !== undefined && { logLevel: level }),
      ...(drain !== undefined && { shutdownDrainMs: Number(drain) }),
    },
  };
}
