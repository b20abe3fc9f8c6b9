// Client side of the fault suite: verified transfers through the gateway. Every byte is checked by sha256.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { pattern, sourceSha256 } from './targets';

/** Totals of a set of transfers. */
export interface TransferTotals {
  /** Bytes the clients wrote (upload) or the source sent in full (download). */
  sent: number;
  /** Bytes the clients received. */
  received: number;
  /** Bytes of transfers whose sha256 matched end to end. */
  verified: number;
  /** Transfers that did not complete verified (reset, cut short, wrong hash). */
  lost: number;
  /** Transfers that ended as if complete (a FIN, a hash answer) but with wrong bytes: silent corruption. */
  corrupt: number;
  /** Transfers attempted. */
  count: number;
}

/** Empty totals. */
export function noTotals(): TransferTotals {
  return { sent: 0, received: 0, verified: 0, lost: 0, corrupt: 0, count: 0 };
}

/** Adds `b` into `a`. */
export function addTotals(a: TransferTotals, b: TransferTotals): TransferTotals {
  return {
    sent: a.sent + b.sent,
    received: a.received + b.received,
    verified: a.verified + b.verified,
    lost: a.lost + b.lost,
    corrupt: a.corrupt + b.corrupt,
    count: a.count + b.count,
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Options of {@link upload}. */
export interface TransferOptions {
  /** Pause between writes of 64 KiB (a slow writer), ms. */
  readonly writeDelayMs?: number;
  /** Pause reading after each chunk (a slow reader), ms. */
  readonly readDelayMs?: number;
  /** Stop reading once, after the first chunk, for this long (a reader that stops, then carries on), ms. */
  readonly stallMs?: number;
  /** Gives up after this long (a transfer stuck by a fault counts as lost). */
  readonly timeoutMs?: number;
}

/** Uploads `bytes` to the sha256 sink route; verified when the sink's hash equals ours. */
export async function upload(
  port: number,
  bytes: number,
  seed: number,
  options: TransferOptions = {},
): Promise<TransferTotals> {
  const totals = { ...noTotals(), count: 1 };
  const payload = pattern(bytes, seed);
  const expected = createHash('sha256').update(payload).digest('hex');
  let socket: Socket | undefined;
  const timer = setTimeout(() => socket?.destroy(), options.timeoutMs ?? 60_000);
  try {
    socket = await open(port);
    const s = socket;
    const answer: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => answer.push(c));
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    for (let at = 0; at < bytes; at += 64 * 1024) {
      if (s.destroyed) break;
      const chunk = payload.subarray(at, Math.min(bytes, at + 64 * 1024));
      totals.sent += chunk.length;
      if (!s.write(chunk))
        await new Promise<void>((r) => {
          s.once('drain', r);
          s.once('close', r);
        });
      if (options.writeDelayMs) await new Promise((r) => setTimeout(r, options.writeDelayMs));
    }
    s.end();
    await done;
    const reply = Buffer.concat(answer).toString();
    totals.received = reply.length;
    if (reply === expected) totals.verified = bytes;
    else totals.lost = 1;
    // A hash-shaped answer that differs means the sink saw other bytes and the tunnel passed that off as complete.
    if (reply !== expected && /^[0-9a-f]{64}$/.test(reply)) totals.corrupt = 1;
  } catch {
    totals.lost = 1;
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
  return totals;
}

/** True when the 'end' just seen on `socket` (whose side is still open) was a reset: the connection is gone. */
function endedByReset(socket: Socket): boolean {
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: object) => number } })._handle;
  return typeof handle?.getpeername === 'function' && handle.getpeername({}) !== 0;
}

/** Downloads `bytes` from the source route; verified when our hash equals the source's pattern. */
export async function download(
  port: number,
  bytes: number,
  options: TransferOptions = {},
): Promise<TransferTotals> {
  const totals = { ...noTotals(), count: 1, sent: bytes };
  let socket: Socket | undefined;
  const timer = setTimeout(() => socket?.destroy(), options.timeoutMs ?? 60_000);
  try {
    socket = await open(port);
    const s = socket;
    const hash = createHash('sha256');
    let ended = false;
    let stallOnce = options.stallMs;
    await new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => {
        hash.update(c);
        totals.received += c.length;
        const pauseMs = stallOnce ?? options.readDelayMs;
        stallOnce = undefined;
        if (pauseMs) {
          s.pause();
          setTimeout(() => s.resume(), pauseMs);
        }
      });
      s.on('end', () => {
        // Node 20's libuv reports a reset that comes with POLLHUP after a partial read as an end of stream
        // (libuv#4997); with our side still open a real FIN leaves the connection open, a reset does not.
        ended = !endedByReset(s);
        s.end();
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      // Our side stays open until the source has ended, so a reset can be told from a FIN (see 'end').
      s.write('go');
    });
    const whole = totals.received === bytes && hash.digest('hex') === sourceSha256(bytes);
    if (ended && whole) totals.verified = bytes;
    else totals.lost = 1;
    // A clean end of stream (FIN) after wrong or missing bytes is a truncation the client cannot notice.
    if (ended && !whole) totals.corrupt = 1;
  } catch {
    totals.lost = 1;
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
  return totals;
}

/** One short echo round trip; true when the bytes came back whole. */
export async function probe(port: number, timeoutMs = 5_000): Promise<boolean> {
  const result = await upload(port, 1024, 7, { timeoutMs });
  return result.verified === 1024;
}
