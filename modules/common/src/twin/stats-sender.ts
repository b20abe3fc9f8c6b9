import { Message } from 'azure-iot-device';
import type { Logger } from '../log';
import { describeSdkError } from './errors';
import { jsonByteLength, type JsonObject } from './json';
import type { ModuleConnection } from './module-connection';
import { scrubForTwin } from './scrub';

/** One round of statistics: fields every message repeats, and one entry per route or service. */
export interface StatsSnapshot {
  readonly header: JsonObject;
  readonly entries: readonly JsonObject[];
}

/** Options for StatsSender. */
export interface StatsSenderOptions {
  readonly connection: ModuleConnection;
  readonly collect: () => StatsSnapshot;
  readonly logger: Logger;
  /** Period; 0 disables; default 60 000. */
  readonly intervalMs?: number;
  /** Module output the messages leave on (the edgeHub route picks it up); default `stats`. */
  readonly outputName?: string;
  /** Upper bound of one message body; IoT Hub accepts 256 KB with properties; default 192 KiB. */
  readonly maxMessageBytes?: number;
}

/** Counters of StatsSender. */
export interface StatsSenderStats {
  readonly sent: number;
  /** Rounds skipped because there was no IoT Hub session (edgeHub buffers in production; this is the rest). */
  readonly skipped: number;
  readonly failed: number;
}

/** Application property every stats message carries, for edgeHub and IoT Hub message routing. */
export const STATS_MESSAGE_TYPE = 'stats';

/**
 * Sends a periodic statistics message with `sendOutputEvent` on an output: JSON (`contentType`
 * application/json, UTF-8, so IoT Hub routing queries can read the body), property `messageType=stats`. Many
 * entries are split over several messages (`part`/`parts`). Without a session the round is skipped: the
 * counters are monotonic totals, so the next message carries everything.
 */
export class StatsSender {
  private readonly timer: NodeJS.Timeout | undefined;
  private counters = { sent: 0, skipped: 0, failed: 0 };
  private sequence = 0;
  private stopped = false;

  constructor(private readonly options: StatsSenderOptions) {
    const intervalMs = options.intervalMs ?? 60_000;
    if (intervalMs > 0) this.timer = setInterval(() => void this.sendNow(), intervalMs);
  }

  /** Builds and sends one round now; resolves when every part was handed to the SDK (or failed). */
  async sendNow(): Promise<void> {
    const client = this.options.connection.client;
    if (this.stopped) return;
    if (!client) {
      this.counters.skipped += 1;
      return;
    }
    const snapshot = this.options.collect();
    const bodies = splitStats(snapshot, this.options.maxMessageBytes ?? 192 * 1024, ++this.sequence);
    for (const body of bodies) {
      const message = new Message(JSON.stringify(scrubForTwin(body)));
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      message.properties.add('messageType', STATS_MESSAGE_TYPE);
      try {
        await client.sendOutputEvent(this.options.outputName ?? 'stats', message);
        this.counters.sent += 1;
      } catch (err) {
        this.counters.failed += 1;
        this.options.logger.warn({ err: describeSdkError(err) }, 'stats message not sent');
        return;
      }
    }
  }

  /** Counters of messages sent, rounds skipped and failures. */
  stats(): StatsSenderStats {
    return { ...this.counters };
  }

  /** Stops the timer. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}

/** Splits a snapshot into message bodies of at most `maxBytes` each (an entry is never split). */
export function splitStats(snapshot: StatsSnapshot, maxBytes: number, sequence: number): JsonObject[] {
  const groups: JsonObject[][] = [];
  let current: JsonObject[] = [];
  const overheadBytes = jsonByteLength({ ...snapshot.header, sequence, part: 0, parts: 0, entries: [] }) + 32;
  let size = overheadBytes;
  for (const entry of snapshot.entries) {
    const bytes = jsonByteLength(entry) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      groups.push(current);
      current = [];
      size = overheadBytes;
    }
    current.push(entry);
    size += bytes;
  }
  groups.push(current);
  return groups.map((entries, i) => ({
    ...snapshot.header,
    sequence,
    part: i + 1,
    parts: groups.length,
    entries,
  }));
}
