/** A device-to-cloud message (telemetry or a module output event) as the sandbox hub received it. */
export interface HubMessage {
  deviceId: string;
  moduleId?: string;
  /** Module output name (`$.on`), e.g. `stats` for `sendOutputEvent('stats', …)`. */
  outputName?: string;
  body: Buffer;
  /** Application properties. */
  properties: Record<string, string>;
  /** System properties the SDK sets (`$.mid`, `$.cid`, `$.ct`, `$.ce`, …) without the `$.` prefix. */
  systemProperties: Record<string, string>;
  enqueuedTimeUtc: string;
  /** Per-hub sequence number, grows by one per message. */
  sequenceNumber: number;
}

/** Options for waiting on a message. */
export interface WaitForMessageOptions {
  /** Give up after this long (bounded waits keep tests from hanging). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Also consider messages already received (default true). */
  includeRecent?: boolean;
}

/**
 * The hub's device-to-cloud feed: a bounded ring of recent messages plus live subscribers, so tests and
 * the demo can read telemetry without an Event Hubs endpoint.
 */
export class MessageFeed {
  private readonly ring: HubMessage[] = [];
  private readonly listeners = new Set<(m: HubMessage) => void>();
  private sequence = 0;

  constructor(private readonly capacity = 1000) {}

  /** Records a message and hands it to subscribers. */
  push(message: Omit<HubMessage, 'sequenceNumber'>): HubMessage {
    this.sequence += 1;
    const full: HubMessage = { ...message, sequenceNumber: this.sequence };
    this.ring.push(full);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of [...this.listeners]) listener(full);
    return full;
  }

  /** Calls `listener` for every new message; returns the unsubscribe function. */
  subscribe(listener: (m: HubMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Messages still in the ring, oldest first, optionally filtered. */
  recent(filter?: (m: HubMessage) => boolean): HubMessage[] {
    return filter ? this.ring.filter(filter) : [...this.ring];
  }

  /** Resolves with the first message matching `predicate`; rejects after `timeoutMs` (default 10 s) or on abort. */
  waitFor(predicate: (m: HubMessage) => boolean, options: WaitForMessageOptions = {}): Promise<HubMessage> {
    if (options.includeRecent !== false) {
      const found = this.ring.find(predicate);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 10_000;
      const finish = (err: Error | undefined, m?: HubMessage) => {
        clearTimeout(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else if (m) resolve(m);
      };
      const onAbort = () => finish(new Error('waitFor aborted'));
      const timer = setTimeout(
        () => finish(new Error(`no matching message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const unsubscribe = this.subscribe((m) => {
        if (predicate(m)) finish(undefined, m);
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Drops all subscribers (hub shutdown). */
  close(): void {
    this.listeners.clear();
  }
}
