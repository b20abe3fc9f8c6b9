import type { Logger } from './log';

/** Levels a RepeatLog writes at. */
export type RepeatLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Options for RepeatLog. */
export interface RepeatLogOptions {
  /** Length of one summary interval (default 10 s). */
  readonly intervalMs?: number;
}

/** Default summary interval. */
export const DEFAULT_REPEAT_LOG_INTERVAL_MS = 10_000;

interface Pending {
  readonly level: RepeatLogLevel;
  readonly message: string;
  fields: object;
  /** Occurrences not yet written. */
  count: number;
  sinceMs: number;
}

/**
 * Log lines for events that can come thousands a second (clients refused at a limit or by the allow-list): the
 * first occurrence of a key is written at once (`count: 1`); later ones within the interval are counted and
 * written as one line per key when the interval ends, with `count` and `intervalMs` and the latest occurrence's
 * fields. A key quiet for a whole interval is forgotten, so its next occurrence is written at once again. At most
 * two lines per key per interval, whatever the rate.
 */
export class RepeatLog {
  private readonly intervalMs: number;
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    options: RepeatLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_REPEAT_LOG_INTERVAL_MS;
  }

  /** Records one occurrence of `key`; `fields` should start with the id (route, connection) it concerns. */
  record(level: RepeatLogLevel, key: string, fields: object, message: string): void {
    const entry = this.pending.get(key);
    if (entry) {
      entry.count += 1;
      entry.fields = fields;
      return;
    }
    this.logger[level]({ ...fields, count: 1 }, message);
    this.pending.set(key, { level, message, fields, count: 0, sinceMs: Date.now() });
    this.timer ??= setInterval(() => this.tick(), this.intervalMs).unref();
  }

  /** Writes every pending count now (shutdown, tests). */
  flush(): void {
    const now = Date.now();
    for (const entry of this.pending.values()) this.write(entry, now);
  }

  /** Writes what is pending and stops the timer. */
  close(): void {
    this.flush();
    this.pending.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = Date.now();
    for (const [key, entry] of this.pending) {
      if (entry.count === 0) this.pending.delete(key);
      else this.write(entry, now);
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private write(entry: Pending, now: number): void {
    if (entry.count === 0) return;
    this.logger[entry.level](
      { ...entry.fields, count: entry.count, intervalMs: now - entry.sinceMs },
      entry.message,
    );
    entry.count = 0;
    entry.sinceMs = now;
  }
}
