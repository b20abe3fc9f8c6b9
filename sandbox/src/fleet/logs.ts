// The fleet's log files: one JSON log per component under `{stateDir}/fleet/logs/`, so the console shows only the
// summary.
import { join } from 'node:path';
import pino from 'pino';
import { createLogger, type Logger } from '../../../modules/common/src/log';

/** Loggers writing to files, closed together. */
export class FleetLogs {
  private readonly destinations: Array<ReturnType<typeof pino.destination>> = [];

  constructor(readonly dir: string) {}

  /** A secret-scrubbing JSON logger named `name`, writing `{dir}/{name}.log`. */
  logger(name: string, level = 'info'): Logger {
    const destination = pino.destination({ dest: this.file(name), sync: false, mkdir: true });
    this.destinations.push(destination);
    return createLogger(name, level, { destination });
  }

  /** The path of `{dir}/{name}.log`. */
  file(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  /** Flushes and closes every file. */
  async close(): Promise<void> {
    await Promise.all(
      this.destinations.splice(0).map(
        (d) =>
          new Promise<void>((resolve) => {
            try {
              d.flushSync();
            } catch {
              // not open yet, or already closed
            }
            d.once('close', () => resolve());
            d.once('error', () => resolve());
            d.end();
          }),
      ),
    );
  }
}
