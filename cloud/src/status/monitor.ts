import { EventEmitter } from 'node:events';
import type { Logger } from '../../../modules/common/src/log';
import { CounterTracker } from './counters';
import { buildDocument } from './document';
import { BucketHistory } from './history';
import { buildSnapshot, type SnapshotOptions } from './snapshot';
import type { FleetSource } from './source';
import type { FleetDocument, FleetSnapshot, SourceStatus } from './view-types';

/** Options of FleetMonitor. */
export interface FleetMonitorOptions extends Partial<SnapshotOptions> {
  readonly source: FleetSource;
  /** Time between the end of one IoT Hub read and the start of the next. */
  readonly pollIntervalMs: number;
  /** Size of one history bucket (a chart point). */
  readonly bucketMs: number;
  /** How far back the history reaches. */
  readonly historyMs: number;
  readonly logger?: Pick<Logger, 'warn' | 'debug'>;
  readonly nowMs?: () => number;
}

/**
 * Polls the fleet source, keeps the latest snapshot and the hour of history, and emits `update` with the new
 * document after every poll (also a failed one: the page says the data is stale). Reads never overlap.
 */
export class FleetMonitor extends EventEmitter<{ update: [FleetDocument] }> {
  private readonly tracker: CounterTracker;
  private readonly history: BucketHistory;
  private readonly snapshotOptions: SnapshotOptions;
  private readonly now: () => number;
  private snapshot: FleetSnapshot | null = null;
  private status: SourceStatus = { ok: false };
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: FleetMonitorOptions) {
    super();
    this.now = options.nowMs ?? Date.now;
    this.snapshotOptions = {
      forwarderModuleId: options.forwarderModuleId ?? 'relay-forwarder',
      gatewayModuleId: options.gatewayModuleId ?? 'relay-gateway',
      ...(options.tokenWarnBelowMs !== undefined && { tokenWarnBelowMs: options.tokenWarnBelowMs }),
    };
    this.history = new BucketHistory({
      bucketMs: options.bucketMs,
      bucketCount: Math.max(1, Math.ceil(options.historyMs / options.bucketMs)),
    });
    this.tracker = new CounterTracker(options.historyMs);
  }

  /** Reads the fleet once now (joining a read already under way). */
  pollOnce(): Promise<void> {
    return (this.inFlight ??= this.poll().finally(() => {
      this.inFlight = undefined;
    }));
  }

  /** Polls now and then every pollIntervalMs until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      void this.pollOnce().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.options.pollIntervalMs);
      });
    };
    loop();
  }

  /** Stops polling and waits (at most `waitMs`) for a read under way: a hung IoT Hub request never holds up exit. */
  async stop(waitMs = 2000): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (!this.inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.inFlight,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** The current document. */
  document(): FleetDocument {
    const nowMs = this.now();
    return buildDocument({
      nowMs,
      pollIntervalMs: this.options.pollIntervalMs,
      bucketMs: this.options.bucketMs,
      source: this.status,
      snapshot: this.snapshot,
      buckets: this.history.buckets(nowMs),
    });
  }

  private async poll(): Promise<void> {
    const attemptMs = this.now();
    try {
      const reading = await this.options.source.read();
      const atMs = this.now();
      const { snapshot, counters } = buildSnapshot(reading, this.snapshotOptions, atMs);
      const deltas = this.tracker.update(counters, atMs);
      const activeByLocation = new Map<string, number>();
      for (const c of counters) {
        if (c.location !== undefined)
          activeByLocation.set(c.location, (activeByLocation.get(c.location) ?? 0) + c.active);
      }
      this.history.record(atMs, deltas, activeByLocation, snapshot.totals.activeConnections);
      this.snapshot = snapshot;
      this.status = { ok: true, lastSuccessAtMs: atMs, lastAttemptAtMs: attemptMs };
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      const error = {
        code: typeof e.code === 'string' ? e.code : 'STATUS_SOURCE_FAILED',
        message: String(e.message),
      };
      this.options.logger?.warn({ err }, 'fleet status read failed');
      this.status = {
        ok: false,
        ...(this.status.lastSuccessAtMs !== undefined && { lastSuccessAtMs: this.status.lastSuccessAtMs }),
        lastAttemptAtMs: attemptMs,
        error,
      };
    }
    this.emit('update', this.document());
  }
}
