import { createLogger } from '../../../modules/common/src/log';

/** The logging surface the sandbox hub needs; a pino logger fits it. */
export interface HubLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The default logger: the project's secret-scrubbing JSON logger named `sandbox-iothub` (level from LOG_LEVEL). */
export function defaultHubLogger(): HubLogger {
  return createLogger('sandbox-iothub');
}
