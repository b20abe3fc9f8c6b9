import { connect, type Socket } from 'node:net';
import { DIGEST_BYTES, encodeRequestHeader } from '../target/protocol';
import type { PayloadSource } from './payload';

/** What a request carries: stream `stream` of the payload source, `lengthBytes` long (none for a probe). */
export interface RequestBody {
  readonly source: PayloadSource;
  readonly stream: number;
  readonly lengthBytes: number;
}

/** A request fails when no byte moves either way for this long (a stuck tunnel, not a slow one). */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/**
 * One client connection to a variant's entry port speaking the bench protocol (protocol.ts): requests are
 * written with backpressure, the 32-byte answer is collected, and the time of its first byte is kept for latency.
 */
export class BenchConnection {
  /** `performance.now()` when the first byte of the latest answer arrived. */
  firstByteAtMs = 0;
  private readonly replyChunks: Buffer[] = [];
  private replyBytes = 0;
  private pending: { resolve(reply: Buffer): void; reject(err: Error): void } | undefined;
  private socketError: NodeJS.ErrnoException | undefined;
  private closedFlag = false;
  private readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    private readonly stallTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (this.socketError ??= err));
    socket.on('timeout', () => socket.destroy(Object.assign(new Error('stalled'), { code: 'STALLED' })));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.fail(`connection closed before the answer${this.errorSuffix()}`);
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:`port`; rejects on a refused or stalled connect. */
  static open(port: number, stallTimeoutMs = DEFAULT_STALL_TIMEOUT_MS): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const connection = new BenchConnection(socket, stallTimeoutMs);
      socket.setTimeout(stallTimeoutMs);
      socket.once('connect', () => {
        socket.setTimeout(0);
        resolve(connection);
      });
      void connection.closed.then(() => reject(new Error(`connect failed${connection.errorSuffix()}`)));
    });
  }

  /** Sends one request and resolves with the target's answer (the digest of the body as it arrived). */
  request(body?: RequestBody): Promise<Buffer> {
    if (this.pending) return Promise.reject(new Error('a request is already in flight'));
    if (this.closedFlag) return Promise.reject(new Error(`connection closed${this.errorSuffix()}`));
    const promise = new Promise<Buffer>((resolve, reject) => (this.pending = { resolve, reject }));
    this.replyChunks.length = 0;
    this.replyBytes = 0;
    this.firstByteAtMs = 0;
    this.socket.setTimeout(this.stallTimeoutMs);
    this.socket.write(encodeRequestHeader(body?.lengthBytes ?? 0));
    if (body) this.writeBody(body);
    return promise;
  }

  /** Ends the connection and waits (bounded) until it closed; false if it had to be destroyed. */
  async close(timeoutMs = 10_000): Promise<boolean> {
    if (this.closedFlag) return this.socketError === undefined;
    this.socket.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.closed.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.socket.destroy();
    return !timedOut && this.socketError === undefined;
  }

  /** Destroys the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private writeBody(body: RequestBody): void {
    // Chunks are produced lazily, paused whenever the socket's buffer is full: memory stays at one chunk.
    let index = 0;
    let sent = 0;
    const pump = (): void => {
      while (sent < body.lengthBytes && !this.closedFlag) {
        const chunk = body.source.chunk(body.stream, index++);
        const piece = chunk.subarray(0, Math.min(chunk.length, body.lengthBytes - sent));
        sent += piece.length;
        if (!this.socket.write(piece)) {
          this.socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }

  private onData(chunk: Buffer): void {
    if (this.replyBytes === 0) this.firstByteAtMs = performance.now();
    this.replyChunks.push(chunk);
    this.replyBytes += chunk.length;
    if (this.replyBytes < DIGEST_BYTES) return;
    const reply = Buffer.concat(this.replyChunks);
    const pending = this.pending;
    this.pending = undefined;
    this.socket.setTimeout(0);
    if (!pending || reply.length !== DIGEST_BYTES) {
      this.socket.destroy(new Error(`unexpected ${reply.length} bytes from the target`));
      pending?.reject(new Error(`unexpected ${reply.length}-byte answer`));
      return;
    }
    pending.resolve(reply);
  }

  private fail(message: string): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new Error(message));
  }

  private errorSuffix(): string {
    return this.socketError ? ` (${this.socketError.code ?? this.socketError.message})` : '';
  }
}
