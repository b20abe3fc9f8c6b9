import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { summarize, type LatencySummary } from '../workloads/percentiles';

/** Interactive round trips on an idle route against the same beside a bulk stream on that route. */
export interface FairnessResult {
  readonly status: 'ok' | 'failed';
  readonly errors: readonly string[];
  /** Round trips measured in each phase (over all rounds). */
  readonly samples: number;
  readonly rounds: number;
  /** 1-byte round trips with nothing else on the route. */
  readonly idle?: LatencySummary;
  /** 1-byte round trips while one bulk stream fills the route. */
  readonly beside?: LatencySummary;
  /** beside p99 / idle p99 (the goal: ≤ 2). */
  readonly p99Ratio: number | null;
  readonly p50Ratio: number | null;
  /** The bulk stream's rate while the beside samples ran (10^6 bytes/s). */
  readonly bulkMBps: number | null;
  /** Bulk streams whose target-side SHA-256 equalled the sender's. */
  readonly bulkSha256Verified: number;
}

/** Bulk runs alone this long before the beside samples start, so they see a full pipe. */
const BULK_RAMP_MS = 300;

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** An interactive client on the target's echo: one byte out, time until it is back. */
class Interactive {
  private waiting: ((err?: Error) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', () => this.settle());
    socket.on('error', (err) => this.settle(err));
    socket.on('close', () => this.settle(new Error('interactive connection closed')));
  }

  static async open(port: number): Promise<Interactive> {
    const socket = await opened(port);
    const client = new Interactive(socket);
    try {
      await client.roundTrip('E');
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** ms for one byte there and back. */
  async roundTrip(prefix = ''): Promise<number> {
    const at = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(new Error('no echo within 30 s')), 30_000);
      this.waiting = (err) => (clearTimeout(timer), err ? reject(err) : resolve());
      this.socket.write(`${prefix}x`);
    });
    return performance.now() - at;
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(err?: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(err);
  }
}

/**
 * The bulk uploader, run in a worker thread so its pumping does not delay the interactive client's event loop
 * (the point is what the tunnel does to the interactive stream, not what this process does). Plain JavaScript:
 * a worker cannot load TypeScript. It writes `S` and then 64 KiB chunks as fast as backpressure allows, hashing
 * what it wrote; on `stop` it half-closes and reports whether the target's SHA-256 equals its own.
 */
const BULK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash, randomBytes } = require('node:crypto');
const net = require('node:net');
const chunk = randomBytes(64 * 1024);
const hash = createHash('sha256');
let bytes = 0;
let stopping = false;
const answer = [];
const socket = net.connect({ host: '127.0.0.1', port: workerData.port });
socket.setNoDelay(true);
const fail = (err) => parentPort.postMessage({ kind: 'done', ok: false, bytes, error: String(err && err.message || err) });
socket.on('error', fail);
socket.on('data', (c) => answer.push(c));
socket.once('end', () => {
  const theirs = Buffer.concat(answer);
  parentPort.postMessage({ kind: 'done', ok: theirs.equals(hash.digest()), bytes, error: null });
  socket.destroy();
});
const pump = () => {
  while (!stopping && !socket.destroyed) {
    hash.update(chunk);
    bytes += chunk.length;
    if (!socket.write(chunk)) return void socket.once('drain', pump);
  }
};
socket.once('connect', () => { socket.write('S'); parentPort.postMessage({ kind: 'started', bytes }); pump(); });
parentPort.on('message', (m) => {
  if (m === 'bytes') parentPort.postMessage({ kind: 'bytes', bytes });
  if (m === 'stop') { stopping = true; socket.end(); }
});
`;

interface BulkMessage {
  readonly kind: 'started' | 'bytes' | 'done';
  readonly bytes: number;
  readonly ok?: boolean;
  readonly error?: string | null;
}

/** A bulk upload into the target's sink through `port`, in a worker thread; checked by SHA-256. */
class Bulk {
  private readonly worker: Worker;
  private readonly done: Promise<BulkMessage>;

  private constructor(port: number) {
    this.worker = new Worker(BULK_WORKER, { eval: true, workerData: { port } });
    this.done = new Promise((resolve, reject) => {
      this.worker.on('message', (m: BulkMessage) => {
        if (m.kind === 'done') resolve(m);
      });
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(new Error('bulk worker exited before its digest')));
    });
    this.done.catch(() => undefined);
  }

  /** Starts the worker and resolves once its connection is open and pumping. */
  static async start(port: number): Promise<Bulk> {
    const bulk = new Bulk(port);
    await bulk.next('started');
    return bulk;
  }

  /** Bytes written so far. */
  bytes(): Promise<number> {
    const reply = this.next('bytes');
    this.worker.postMessage('bytes');
    return reply;
  }

  private next(kind: BulkMessage['kind']): Promise<number> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: BulkMessage): void => {
        if (m.kind !== kind) return;
        this.worker.off('message', onMessage);
        resolve(m.bytes);
      };
      this.worker.on('message', onMessage);
      void this.done.then(
        (m) => reject(new Error(`bulk stream ended early: ${m.error ?? 'closed'}`)),
        reject,
      );
    });
  }

  /** Half-closes and resolves true when the target's digest equals the sender's. */
  async stop(): Promise<boolean> {
    this.worker.postMessage('stop');
    const m = await this.done.finally(() => void this.worker.terminate());
    if (m.error) throw new Error(`bulk stream: ${m.error}`);
    return m.ok === true;
  }

  /** Aborts the upload (after a failure elsewhere). */
  destroy(): void {
    void this.worker.terminate();
  }
}

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;

/**
 * `rounds` times: `samples / rounds` back-to-back 1-byte round trips on an interactive connection through the
 * route at `port` with nothing else on it, then a bulk upload starts on a second connection through the same
 * route and as many round trips run beside it; the bulk stream then half-closes and its digest is checked.
 */
export async function runFairness(
  port: number,
  options: { readonly samples: number; readonly rounds: number },
): Promise<FairnessResult> {
  const errors: string[] = [];
  const idle: number[] = [];
  const beside: number[] = [];
  let bulkBytes = 0;
  let bulkMs = 0;
  let verified = 0;
  const perRound = Math.max(1, Math.floor(options.samples / options.rounds));
  for (let round = 0; round < options.rounds && errors.length === 0; round++) {
    let interactive: Interactive | undefined;
    let bulk: Bulk | undefined;
    try {
      interactive = await Interactive.open(port);
      for (let i = 0; i < perRound; i++) idle.push(await interactive.roundTrip());
      bulk = await Bulk.start(port);
      await new Promise((resolve) => setTimeout(resolve, BULK_RAMP_MS));
      const bytesAt = await bulk.bytes();
      const at = performance.now();
      for (let i = 0; i < perRound; i++) beside.push(await interactive.roundTrip());
      bulkMs += performance.now() - at;
      bulkBytes += (await bulk.bytes()) - bytesAt;
      const ok = await bulk.stop();
      bulk = undefined;
      if (ok) verified += 1;
      else errors.push(`round ${round}: bulk sha256 mismatch (the target hashed different bytes)`);
    } catch (err) {
      errors.push(`round ${round}: ${(err as Error).message}`);
    } finally {
      interactive?.close();
      bulk?.destroy();
    }
  }
  const idleSummary = summarize(idle);
  const besideSummary = summarize(beside);
  const ok = errors.length === 0;
  return {
    status: ok ? 'ok' : 'failed',
    errors,
    samples: idle.length,
    rounds: options.rounds,
    ...(idleSummary && { idle: idleSummary }),
    ...(besideSummary && { beside: besideSummary }),
    p99Ratio: ok ? ratio(besideSummary?.p99Ms, idleSummary?.p99Ms) : null,
    p50Ratio: ok ? ratio(besideSummary?.p50Ms, idleSummary?.p50Ms) : null,
    bulkMBps: ok && bulkMs > 0 ? Math.round((bulkBytes / 1e6 / (bulkMs / 1000)) * 10) / 10 : null,
    bulkSha256Verified: verified,
  };
}
