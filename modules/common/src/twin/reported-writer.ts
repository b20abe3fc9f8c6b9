import type { Logger } from '../log';
import { describeSdkError, TwinError } from './errors';
import type { JsonObject } from './json';
import { cloneJson, jsonByteLength } from './json';
import { diffMergePatch } from './merge-patch';

/** Options for ReportedWriter. */
export interface ReportedWriterOptions {
  /** The whole reported document as it should be now (already scrubbed and fitted). */
  readonly snapshot: () => JsonObject;
  /** Sends one reported patch (merge patch; `null` deletes). */
  readonly send: (patch: JsonObject) => Promise<void>;
  readonly logger: Logger;
  /** Changes within this window go out as one patch, and patches are at least this far apart; default 1 000. */
  readonly debounceMs?: number;
  /** Also send what changed (counters) on this period; 0 disables; default 60 000. */
  readonly refreshIntervalMs?: number;
  /**
   * A patch not acknowledged in this time counts as failed; default 30 000. The SDK keeps no timeout of its own:
   * a twin request whose answer was lost with the connection would otherwise be waited for forever.
   */
  readonly sendTimeoutMs?: number;
}

/** What the writer has done (tests and getStatus). */
export interface ReportedWriterStats {
  readonly patches: number;
  readonly failures: number;
  readonly lastPatchBytes?: number;
  readonly lastSentAtMs?: number;
}

/**
 * Writes reported properties as coalesced patches: `request()` marks the state dirty and at most one patch per
 * debounce window goes out, holding only what differs from what IoT Hub already has (removed entries as
 * `null`). Counters are picked up by the periodic refresh, never one patch per connection. A failed patch is
 * not retried in a loop: the next session's `resync()` (with the reported section IoT Hub really holds)
 * sends whatever is still missing.
 */
export class ReportedWriter {
  /** What IoT Hub holds, as far as we know; undefined until the first session's resync. */
  private base: JsonObject | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly refresh: NodeJS.Timeout | undefined;
  private sending = false;
  private again = false;
  /** Grows on every resync: an answer from an earlier session no longer says anything about IoT Hub's copy. */
  private generation = 0;
  private stopped = false;
  /** Ends the wait for a patch in flight (stop(): its answer no longer matters, and its timer is not held). */
  private readonly stopping = new AbortController();
  private counters: { patches: number; failures: number; lastPatchBytes?: number; lastSentAtMs?: number } = {
    patches: 0,
    failures: 0,
  };

  constructor(private readonly options: ReportedWriterOptions) {
    const periodMs = options.refreshIntervalMs ?? 60_000;
    if (periodMs > 0) this.refresh = setInterval(() => this.request(), periodMs);
  }

  /** Marks the state changed: a patch goes out within the debounce window (coalesced with other changes). */
  request(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.debounceMs ?? 1_000);
  }

  /** A new session read `reported` from IoT Hub: diff against that from now on, and send what differs soon. */
  resync(reported: JsonObject): void {
    this.generation += 1;
    this.base = cloneJson(reported);
    // A patch still in flight belongs to a dead session: stop waiting for it.
    this.sending = false;
    this.again = false;
    this.request();
  }

  /** Sends what differs now (shutdown, tests); resolves when that patch is done. */
  async flush(): Promise<void> {
    if (this.stopped || this.base === undefined) return;
    if (this.sending) {
      this.again = true;
      return;
    }
    const target = this.options.snapshot();
    const patch = diffMergePatch(this.base, target);
    if (patch === undefined) return;
    const generation = this.generation;
    this.sending = true;
    try {
      await withTimeout(this.options.send(patch), this.options.sendTimeoutMs ?? 30_000, this.stopping.signal);
      if (generation !== this.generation || this.stopped) return;
      this.base = target;
      this.counters = {
        ...this.counters,
        patches: this.counters.patches + 1,
        lastPatchBytes: jsonByteLength(patch),
        lastSentAtMs: Date.now(),
      };
    } catch (err) {
      // After stop() the module is shutting down and its logger may be closed: a late failure says nothing.
      if (generation !== this.generation || this.stopped) return;
      this.counters.failures += 1;
      this.options.logger.warn(
        { err: describeSdkError(err) },
        'reported properties not sent; will retry after reconnecting',
      );
    } finally {
      if (generation === this.generation) this.sending = false;
    }
    if (this.again) {
      this.again = false;
      this.request();
    }
  }

  /** Counters of patches sent and failed. */
  stats(): ReportedWriterStats {
    return { ...this.counters };
  }

  /** Stops the timers; nothing is sent afterwards. */
  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    clearInterval(this.refresh);
    this.timer = undefined;
  }
}

function withTimeout(work: Promise<void>, timeoutMs: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(new TwinError('TWIN_TIMEOUT', `no answer to the reported patch within ${timeoutMs} ms`, true)),
      timeoutMs,
    );
    onAbort = () => reject(new TwinError('TWIN_TIMEOUT', 'the writer stopped', false));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
  });
}
