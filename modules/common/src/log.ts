import pino, { DestinationStream, Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { redactSecrets, scrubSecrets } from './telemetry/redact';

/** The structured logger every component uses (pino). */
export type { Logger } from 'pino';

/** Levels a configuration's `logLevel` and `--log-level` accept (pino's, plus silent). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field names known to hold secrets; any field whose name ends in key/token/secret/password/… is redacted too. */
export const REDACTED_FIELDS: readonly string[] = [
  'connectionString',
  'sasToken',
  'token',
  'key',
  'sharedAccessKey',
  'primaryKey',
  'secondaryKey',
  'password',
  'authorization',
  'serviceBusAuthorization',
  'sig',
];

/** How log lines look: one JSON object a line (machines), or one readable line (a person at a terminal). */
export type LogFormat = 'json' | 'pretty';

/** Options beyond name and level. */
export interface LoggerOptions {
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  readonly destination?: DestinationStream;
  /** The format; by default {@link logFormatFor} the environment and stdout, but JSON for a `destination`. */
  readonly format?: LogFormat;
}

/**
 * LOG_FORMAT=json or pretty forces a format; otherwise pretty when stdout is a terminal, JSON when it is not
 * (a container, a pipe, a log file), so log collectors always get JSON.
 */
export function logFormatFor(
  env: Readonly<Record<string, string | undefined>> = process.env,
  stdoutIsTty: boolean = process.stdout.isTTY === true,
): LogFormat {
  const forced = env.LOG_FORMAT?.trim().toLowerCase();
  if (forced === 'json' || forced === 'pretty') return forced;
  return stdoutIsTty ? 'pretty' : 'json';
}

// formatters.log has already turned Error objects (under any key) into plain, scrubbed `{ type, message, stack, … }`;
// this replaces pino's default err serializer, which would relabel such a plain object as type "Object".
const errorSerializer = (err: unknown): unknown => redactSecrets(err);

/**
 * Creates the root JSON logger for a process. Level from `level`, else LOG_LEVEL, else info.
 * Secrets never reach a line, by two nets: secret-named fields at any depth are replaced before serialization, and
 * every finished line is scrubbed of secret-shaped text (SAS tokens, `SharedAccessKey=`, `sig=`, bearer tokens), which
 * also covers messages, bindings and error stacks. Code must still not log secrets in the first place.
 */
export function createLogger(name: string, level?: string, options: LoggerOptions = {}): Logger {
  const settings: pino.LoggerOptions = {
    name,
    level: level ?? process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: errorSerializer, error: errorSerializer },
    formatters: {
      log: (object) => redactSecrets(object),
      bindings: (bindings) => redactSecrets(bindings),
    },
    hooks: { streamWrite: scrubSecrets },
  };
  // A given destination is a capturing stream or a file: machine-read unless the caller asks otherwise.
  const format = options.format ?? (options.destination ? 'json' : logFormatFor());
  if (format === 'pretty') {
    // The pretty stream parses the finished line, i.e. after both nets above: it shows only what JSON would.
    // Loaded only here: JSON processes (every container) never pay for pino-pretty's start-up.
    const pinoPretty = require('pino-pretty') as typeof PinoPretty;
    const pretty = pinoPretty({
      sync: true,
      destination: options.destination ?? 1,
      colorize: !options.destination && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
    });
    return pino(settings, pretty);
  }
  // Without a destination pino picks stdout with its own flush-on-exit handling; keep that default.
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
