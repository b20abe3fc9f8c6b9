import pino from 'pino';

/** The logging surface the sandbox hub needs; a pino logger fits it. */
export interface HubLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The default logger: JSON lines named `sandbox-iothub`, level from LOG_LEVEL (tests set `silent`). */
export function defaultHubLogger(): HubLogger {
  return pino({ name: 'sandbox-iothub', level: process.env.LOG_LEVEL ?? 'info' });
}
