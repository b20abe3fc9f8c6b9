// Streaming helpers for end-to-end transfers: deterministic payloads written in varied chunk sizes under
// backpressure, and incremental sha256 on the reading side, so 64 MiB transfers never sit whole in memory.
import { createHash, type Hash } from 'node:crypto';
import type * as net from 'node:net';
import { patternBytes } from './tunnel-harness';

/** Options of {@link writePattern}. */
export interface WritePatternOptions {
  /** End the write side after the last byte (TCP FIN). */
  readonly end?: boolean;
  /** Called with each chunk's length as it is handed to the socket. */
  readonly onWrite?: (bytes: number) => void;
  /** Also feed every written byte to this hash (to digest several writes as one stream). */
  readonly hash?: Hash;
}

const POOL_SIZE = 13;

// Chunk sizes differ (and are not multiples of 1 KiB), so frame and segment boundaries fall everywhere.
function chunkPool(seed: number): Buffer[] {
  return Array.from({ length: POOL_SIZE }, (_, i) => patternBytes(48 * 1024 + i * 4099, seed * 31 + i));
}

/**
 * Writes `totalBytes` of a deterministic pattern (seeded) to `socket`, waiting for 'drain' whenever `write`
 * returns false; resolves with the sha256 hex of exactly what was written. Rejects if the socket fails first.
 */
export async function writePattern(
  socket: net.Socket,
  totalBytes: number,
  seed: number,
  options: WritePatternOptions = {},
): Promise<string> {
  const pool = chunkPool(seed);
  const hash = createHash('sha256');
  let failed: Error | undefined;
  const onError = (err: Error): void => {
    failed ??= err;
  };
  socket.on('error', onError);
  try {
    let sent = 0;
    for (let i = 0; sent < totalBytes; i++) {
      if (failed || socket.destroyed) throw failed ?? new Error(`socket closed after ${sent} bytes`);
      const chunk = pool[i % POOL_SIZE]!.subarray(0, totalBytes - sent);
      hash.update(chunk);
      options.hash?.update(chunk);
      sent += chunk.length;
      options.onWrite?.(chunk.length);
      if (!socket.write(chunk)) await drained(socket);
    }
    if (options.end) socket.end();
    return hash.digest('hex');
  } finally {
    socket.off('error', onError);
  }
}

function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('socket closed while waiting for drain'));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

/** How a hashed read ended. */
export interface HashedRead {
  readonly sha256: string;
  readonly bytes: number;
  /** The errno when the connection ended with an error instead of a FIN. */
  readonly errorCode?: string;
}

/** Hashes everything `socket` delivers until it ends or fails; `onData` sees each chunk's length. */
export function hashUntilEnd(socket: net.Socket, onData?: (bytes: number) => void): Promise<HashedRead> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let errorCode: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      onData?.(chunk.length);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (errorCode ??= err.code ?? 'error'));
    // 'close' rather than 'end': a reset must be reported too, and both sides are done by then.
    socket.once('close', () =>
      resolve({ sha256: hash.digest('hex'), bytes, ...(errorCode !== undefined && { errorCode }) }),
    );
  });
}
