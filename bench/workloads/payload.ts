import { createHash, randomBytes } from 'node:crypto';

/** Size of each write the bulk clients make (a typical socket read). */
export const CHUNK_BYTES = 64 * 1024;

const POOL_SPAN_BYTES = 8 * 1024 * 1024;

/**
 * Deterministic, non-repeating-looking stream contents without generating a GiB of random bytes: chunk i of
 * stream s is a 64 KiB window into an 8 MiB random pool at an offset scattered by a multiplicative hash, so
 * swapped, dropped or duplicated chunks change the SHA-256 as surely as flipped bits do. Chunks are views into the
 * pool: a tunnel that mutated its input buffers would corrupt later chunks and be caught by the digest.
 */
export class PayloadSource {
  private readonly pool = randomBytes(POOL_SPAN_BYTES + CHUNK_BYTES);
  private readonly digests = new Map<string, Buffer>();

  /** Chunk `index` of stream `stream` (the last one of a stream is cut by the caller). */
  chunk(stream: number, index: number): Buffer {
    const scattered = (Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    const offset = scattered % POOL_SPAN_BYTES;
    return this.pool.subarray(offset, offset + CHUNK_BYTES);
  }

  /** Calls `write` with every chunk of stream `stream` cut to `lengthBytes` in total. */
  forEachChunk(stream: number, lengthBytes: number, write: (chunk: Buffer) => void): void {
    for (let index = 0, sent = 0; sent < lengthBytes; index++) {
      const chunk = this.chunk(stream, index).subarray(0, Math.min(CHUNK_BYTES, lengthBytes - sent));
      write(chunk);
      sent += chunk.length;
    }
  }

  /** SHA-256 of stream `stream` of `lengthBytes` (computed once, before any timing starts). */
  digest(stream: number, lengthBytes: number): Buffer {
    const key = `${stream}:${lengthBytes}`;
    let digest = this.digests.get(key);
    if (!digest) {
      const hash = createHash('sha256');
      this.forEachChunk(stream, lengthBytes, (chunk) => hash.update(chunk));
      digest = hash.digest();
      this.digests.set(key, digest);
    }
    return digest;
  }
}
