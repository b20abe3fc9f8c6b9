/** The logging surface the sandbox DPS needs; a pino logger fits it. */
export interface DpsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
