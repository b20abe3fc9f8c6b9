/**
 * Datagram (UDP) framing on a tunnel, as azbridge writes it (`UdpRoute.SendAsync`, `UdpRemoteForwarder`): each
 * datagram is a 2-byte big-endian length followed by that many payload bytes, sent in one WebSocket binary
 * message. Receivers treat the messages as one byte stream (azbridge reads them with a stream reader), so a
 * datagram may span messages and a message may hold several.
 */

/** The length prefix is 2 bytes: the largest datagram the framing can carry. */
export const MAX_FRAMED_DATAGRAM_BYTES = 0xffff;

/** Largest UDP payload over IPv4 (65,535 − 8 UDP header − 20 IP header): the default size bound. */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

const LENGTH_BYTES = 2;

/** Frames one datagram: `[len >> 8, len & 0xff] + payload` (one copy, so it goes out as one message). */
export function encodeDatagram(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAMED_DATAGRAM_BYTES)
    throw new RangeError(`datagram of ${payload.length} bytes does not fit the 2-byte length prefix`);
  const out = Buffer.allocUnsafe(LENGTH_BYTES + payload.length);
  out.writeUInt16BE(payload.length, 0);
  out.set(payload, LENGTH_BYTES);
  return out;
}

/** What a decoder found in one chunk: whole datagrams, and those skipped for being above the bound. */
export interface DecodedDatagrams {
  readonly datagrams: Buffer[];
  /** Sizes of datagrams dropped because they exceed `maxDatagramBytes` (their bytes were skipped, not held). */
  readonly oversized: number[];
}

/**
 * Incremental decoder for the framing above. Feed every binary message in arrival order; `push` returns the
 * datagrams completed by it. A datagram above `maxDatagramBytes` is skipped as its bytes arrive (never
 * buffered) and reported in `oversized`, so one bad datagram costs nothing and the flow goes on. Memory held
 * between calls is at most one datagram within the bound.
 */
export class DatagramDecoder {
  private readonly header = Buffer.alloc(LENGTH_BYTES);
  private headerLength = 0;
  /** The datagram being assembled, or undefined while skipping one that is too big. */
  private body: Buffer | undefined;
  private bodyLength = 0;
  /** Bytes of the current datagram still to read (to copy or to skip). */
  private remaining = 0;
  private skipping = false;

  constructor(private readonly maxDatagramBytes: number = MAX_UDP_PAYLOAD_BYTES) {}

  /** True while a datagram is partly read (a clean end of the stream happens only between datagrams). */
  get partial(): boolean {
    return this.headerLength > 0 || this.remaining > 0;
  }

  /** Feeds one chunk (one WebSocket message); see the class comment. */
  push(chunk: Buffer): DecodedDatagrams {
    const datagrams: Buffer[] = [];
    const oversized: number[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0 && !this.body && !this.skipping) {
        this.header[this.headerLength++] = chunk[offset++];
        if (this.headerLength < LENGTH_BYTES) continue;
        this.headerLength = 0;
        const length = this.header.readUInt16BE(0);
        if (length > this.maxDatagramBytes) {
          oversized.push(length);
          this.skipping = true;
          this.remaining = length;
          continue;
        }
        if (length === 0) {
          // An empty datagram is legal UDP (azbridge would frame it as [0, 0]).
          datagrams.push(Buffer.alloc(0));
          continue;
        }
        // A datagram whole inside this chunk is a view, not a copy: the common case costs nothing.
        if (chunk.length - offset >= length) {
          datagrams.push(chunk.subarray(offset, offset + length));
          offset += length;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyLength = 0;
        this.remaining = length;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      if (this.body) {
        chunk.copy(this.body, this.bodyLength, offset, offset + take);
        this.bodyLength += take;
      }
      offset += take;
      this.remaining -= take;
      if (this.remaining > 0) continue;
      if (this.body) datagrams.push(this.body);
      this.body = undefined;
      this.skipping = false;
    }
    return { datagrams, oversized };
  }
}
