import type { ServerResponse } from 'node:http';

/** Limits of the server-sent event stream. */
export interface EventStreamOptions {
  /** Most pages connected at once; more get 503. */
  readonly maxClients: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  readonly keepAliveMs: number;
  /** A client that has this much unsent data is too slow and is dropped (it reconnects and gets a fresh copy). */
  readonly maxBufferedBytes: number;
}

/**
 * The `/api/events` stream: every connected page gets each new fleet document as an `event: fleet` message.
 * Browsers' EventSource reconnects by itself, so dropping a slow or stale client loses nothing.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(private readonly options: EventStreamOptions) {
    this.keepAlive = setInterval(() => this.broadcastRaw(': keep-alive\n\n'), options.keepAliveMs);
    this.keepAlive.unref();
  }

  /** Pages connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes over a response as an event stream and sends it `first`; false (and 503) when full. */
  open(res: ServerResponse, first: string): boolean {
    if (this.clients.size >= this.options.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10', 'cache-control': 'no-store' });
      res.end('too many status pages open\n');
      return false;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    this.clients.add(res);
    res.once('close', () => this.clients.delete(res));
    res.write(`retry: 3000\n\n${message('fleet', first)}`);
    return true;
  }

  /** Sends `data` as an event named `event` to every page. */
  broadcast(event: string, data: string): void {
    this.broadcastRaw(message(event, data));
  }

  /** Ends every stream and stops the keep-alive timer. */
  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private broadcastRaw(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.options.maxBufferedBytes) {
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(text);
    }
  }
}

// JSON has no raw newlines, but a data line must never contain one: split defensively.
function message(event: string, data: string): string {
  return `event: ${event}\n${data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}
