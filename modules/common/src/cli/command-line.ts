import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExitCode } from './exit-codes';
import { projectVersion } from './version';

/** Option definitions as node:util parseArgs takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** The flags every command takes on top of its own. */
export const STANDARD_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  debug: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** Lines every usage text ends with. */
export const STANDARD_USAGE_LINES = `  --help, -h   this text          --version   the version
  --debug      stack traces on unexpected failures
`;

/** Parsed flag values: a string, a boolean or (for `multiple`) a list, by flag name. */
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** A parsed command line, or what to answer instead of running. */
export type CommandLine =
  | {
      readonly kind: 'run';
      readonly values: FlagValues;
      readonly positionals: string[];
      readonly debug: boolean;
    }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly error: string };

/**
 * Parses argv (without node and script) strictly with node:util parseArgs: `options` plus --help, --version and
 * --debug. Unknown flags, missing values and (unless `positionals`) stray arguments come back as `error`.
 */
export function parseCommandLine(
  argv: readonly string[],
  options: OptionSpecs,
  settings: { readonly positionals?: boolean } = {},
): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, ...STANDARD_OPTIONS },
      strict: true,
      allowPositionals: settings.positionals === true,
    });
  } catch (err) {
    return { kind: 'error', error: parseErrorText(err) };
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  return { kind: 'run', values: values as FlagValues, positionals, debug: values.debug === true };
}

/** Where a command writes. */
export interface CliOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * Answers a command line that does not run: the usage on stdout for --help (0), `name version` for --version (0),
 * else the problem and the usage on stderr (64).
 */
export function answerCommandLine(
  name: string,
  usage: string,
  line: Exclude<CommandLine, { kind: 'run' }>,
  out: CliOutput,
): number {
  if (line.kind === 'help') {
    out.stdout.write(usage);
    return ExitCode.OK;
  }
  if (line.kind === 'version') {
    out.stdout.write(`${name} ${projectVersion()}\n`);
    return ExitCode.OK;
  }
  return usageError(name, usage, line.error, out);
}

/** {@link answerCommandLine} for parsers that return `{ ok: false, help, version?, error? }`. */
export function answerParseFailure(
  name: string,
  usage: string,
  parsed: { readonly help: boolean; readonly version?: boolean; readonly error?: string },
  out: CliOutput,
): number {
  const line: Exclude<CommandLine, { kind: 'run' }> = parsed.help
    ? { kind: 'help' }
    : parsed.version
      ? { kind: 'version' }
      : { kind: 'error', error: parsed.error ?? 'bad command line' };
  return answerCommandLine(name, usage, line, out);
}

/** Prints `name: problem` and the usage on stderr; returns 64. */
export function usageError(
  name: string,
  usage: string,
  problem: string,
  out: Pick<CliOutput, 'stderr'>,
): number {
  out.stderr.write(`${name}: ${problem}\n\n${usage}`);
  return ExitCode.USAGE;
}

/** True when argv asks for stack traces (--debug), looked at before or without parsing. */
export function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes('--debug');
}

// node's messages, in the words every command uses: "unknown option --x", "--x needs a value".
function parseErrorText(err: unknown): string {
  // Not `instanceof Error`: node's errors come from another realm under jest.
  const text = (err as { message?: unknown } | undefined)?.message;
  const message = (typeof text === 'string' ? text : String(err)).replace(
    /\. To specify a positional.*$/s,
    '',
  );
  const unknown = /^Unknown option '(.+?)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /^Option '(?:-\w, )?(--[^ ']+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  const stray = /^Unexpected argument '(.+?)'/.exec(message);
  if (stray) return `unexpected argument ${stray[1]}`;
  return message;
}

/** The string value of a flag, or undefined. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The values of a `multiple` string flag (empty when absent). */
export function stringsFlag(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
