import pino, { Logger } from 'pino';

/** The structured logger every component uses (pino). */
export type { Logger } from 'pino';

/** Field names whose values are secrets wherever they appear in a log object. */
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
  'headers.authorization',
  'headers.serviceBusAuthorization',
];

/**
 * Creates the root JSON logger for a process. Level from `level`, else LOG_LEVEL, else info.
 * Secrets are redacted by field name as a second line of defence; code must not log them in the first place.
 */
export function createLogger(name: string, level?: string): Logger {
  return pino({
    name,
    level: level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
