import { createHash } from 'node:crypto';

/**
 * The bench's request/response protocol, the same for bulk, latency and idle work so that every variant needs one
 * target and one tunnel only: the client sends an 8-byte big-endian length L, then L bytes; the target answers with
 * the 32-byte SHA-256 of those L bytes. A connection may repeat requests. It needs no half-close, so it runs
 * unchanged over tunnels that carry one (ours) and tunnels that cannot (the ws stream baseline, hyco-ws).
 */
export const REQUEST_HEADER_BYTES = 8;

/** Length of the target's answer. */
export const DIGEST_BYTES = 32;

/** The answer to an empty request (L = 0): what latency and idle probes expect. */
export const EMPTY_DIGEST: Buffer = createHash('sha256').digest();

/** The 8-byte request header for `lengthBytes` payload bytes. */
export function encodeRequestHeader(lengthBytes: number): Buffer {
  const header = Buffer.alloc(REQUEST_HEADER_BYTES);
  header.writeBigUInt64BE(BigInt(lengthBytes));
  return header;
}
