/** The logging surface the relay client needs; a pino logger fits it as is. */
export interface RelayLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** A logger that drops everything: the default, so the library is quiet unless given one. */
export const silentLogger: RelayLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Wraps `logger` so every line starts with `fields` (e.g. the listener id and path). */
export function withLogFields(logger: RelayLogger, fields: Readonly<Record<string, unknown>>): RelayLogger {
  const bind =
    (level: keyof RelayLogger) =>
    (obj: object, msg?: string): void =>
      logger[level]({ ...fields, ...obj }, msg);
  return { debug: bind('debug'), info: bind('info'), warn: bind('warn'), error: bind('error') };
}
