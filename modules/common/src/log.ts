import pino, { DestinationStream, Logger } from 'pino';
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

/** Options beyond name and level. */
export interface LoggerOptions {
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  readonly destination?: DestinationStream;
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
  // Without a destination pino picks stdout with its own flush-on-exit handling; keep that default.
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
