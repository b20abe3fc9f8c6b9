import { TextDecoder } from 'node:util';
import { TunnelCloseCode } from './close-codes';
import { TunnelError } from './errors';

/** Preamble version this implementation speaks (azbridge 1.0). */
export const PREAMBLE_VERSION = { major: 1, minor: 0 } as const;

/** The preamble's mode byte: azbridge uses 0 for a TCP stream and 1 for UDP datagrams. */
export const PreambleMode = { STREAM: 0, DATAGRAM: 1 } as const;

/** A preamble mode value. */
export type PreambleModeValue = (typeof PreambleMode)[keyof typeof PreambleMode];

/** The port name's length travels in one byte, so a name holds at most 255 UTF-8 bytes. */
export const MAX_PORT_NAME_BYTES = 255;

/** Fixed part of the sender's preamble: major, minor, mode, name length. */
const HEADER_BYTES = 4;
/** The listener's reply: major, minor, mode. */
export const REPLY_BYTES = 3;

/** A decoded sender preamble. */
export interface Preamble {
  readonly mode: PreambleModeValue;
  readonly portName: string;
}

/** A decoded listener reply; `major` 0 is azbridge's way of refusing (see {@link describeReply}). */
export interface PreambleReply {
  readonly major: number;
  readonly minor: number;
  readonly mode: number;
}

/** Result of feeding bytes to a decoder once it is complete: the value and the bytes after it (a view, not a copy). */
export interface Decoded<T> {
  readonly value: T;
  readonly rest: Buffer;
}

function badPreamble(message: string): TunnelError {
  return new TunnelError('TUNNEL_BAD_PREAMBLE', message, false, TunnelCloseCode.BAD_PREAMBLE);
}

/** Encodes the sender's preamble `[1, 0, mode, len] + UTF-8 port name`; throws on an empty or over-long name. */
export function encodePreamble(portName: string, mode: PreambleModeValue = PreambleMode.STREAM): Buffer {
  const nameBytes = Buffer.byteLength(portName, 'utf8');
  if (nameBytes === 0) throw badPreamble('port name is empty');
  if (nameBytes > MAX_PORT_NAME_BYTES) {
    throw badPreamble(`port name is ${nameBytes} bytes; at most ${MAX_PORT_NAME_BYTES} fit the preamble`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + nameBytes);
  out[0] = PREAMBLE_VERSION.major;
  out[1] = PREAMBLE_VERSION.minor;
  out[2] = mode;
  out[3] = nameBytes;
  out.write(portName, HEADER_BYTES, 'utf8');
  return out;
}

/** Encodes the listener's success reply `[1, 0, mode]`. */
export function encodePreambleReply(mode: PreambleModeValue = PreambleMode.STREAM): Buffer {
  return Buffer.from([PREAMBLE_VERSION.major, PREAMBLE_VERSION.minor, mode]);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Incremental decoder for the sender's preamble. Bytes are a stream: feed every chunk as it arrives, in any
 * split; `push` returns undefined until the preamble is complete, then the preamble and the rest of that chunk.
 * Throws TunnelError `TUNNEL_BAD_PREAMBLE` (close code 4400) as soon as a byte proves the preamble invalid.
 */
export class PreambleDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerLength = 0;
  private name: Buffer | undefined;
  private nameLength = 0;
  private done = false;

  /** Feeds one chunk; see the class comment. Must not be called again after it returned a result. */
  push(chunk: Buffer): Decoded<Preamble> | undefined {
    if (this.done) throw new Error('PreambleDecoder already complete');
    let offset = 0;
    while (this.headerLength < HEADER_BYTES && offset < chunk.length) {
      const byte = chunk[offset++];
      this.checkHeaderByte(this.headerLength, byte);
      this.header[this.headerLength++] = byte;
    }
    if (this.headerLength < HEADER_BYTES) return undefined;
    this.name ??= Buffer.allocUnsafe(this.header[3]);
    const take = Math.min(this.name.length - this.nameLength, chunk.length - offset);
    chunk.copy(this.name, this.nameLength, offset, offset + take);
    this.nameLength += take;
    offset += take;
    if (this.nameLength < this.name.length) return undefined;
    this.done = true;
    return {
      value: { mode: this.header[2] as PreambleModeValue, portName: this.decodeName(this.name) },
      rest: chunk.subarray(offset),
    };
  }

  private checkHeaderByte(index: number, byte: number): void {
    if (index === 0 && byte !== PREAMBLE_VERSION.major)
      throw badPreamble(`unsupported preamble major version ${byte}`);
    if (index === 1 && byte !== PREAMBLE_VERSION.minor)
      throw badPreamble(`unsupported preamble minor version ${byte}`);
    if (index === 2 && byte !== PreambleMode.STREAM && byte !== PreambleMode.DATAGRAM) {
      throw badPreamble(`unknown preamble mode ${byte}`);
    }
    if (index === 3 && byte === 0) throw badPreamble('port name is empty');
  }

  private decodeName(bytes: Buffer): string {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw badPreamble('port name is not valid UTF-8');
    }
  }
}

/** Incremental decoder for the listener's 3-byte reply; like {@link PreambleDecoder}, never relies on frame boundaries. */
export class PreambleReplyDecoder {
  private readonly reply = Buffer.alloc(REPLY_BYTES);
  private length = 0;

  /** Feeds one chunk; returns the reply and the rest of the chunk once 3 bytes have arrived. */
  push(chunk: Buffer): Decoded<PreambleReply> | undefined {
    const take = Math.min(REPLY_BYTES - this.length, chunk.length);
    chunk.copy(this.reply, this.length, 0, take);
    this.length += take;
    if (this.length < REPLY_BYTES) return undefined;
    return {
      value: { major: this.reply[0], minor: this.reply[1], mode: this.reply[2] },
      rest: chunk.subarray(take),
    };
  }
}

/**
 * Explains a reply other than `[1, 0, mode]`. azbridge answers `[0, 0, 0]` to a version it does not speak,
 * `[0, 0, 1]` when the port is a datagram (UDP) forward, and `[0, 0, 255]` when a datagram preamble hits a TCP port.
 * Returns undefined when the reply accepts the given mode.
 */
export function describeReply(reply: PreambleReply, sentMode: PreambleModeValue): string | undefined {
  const { major, minor, mode } = reply;
  if (major === PREAMBLE_VERSION.major && minor === PREAMBLE_VERSION.minor && mode === sentMode)
    return undefined;
  if (major === 0 && minor === 0) {
    if (mode === 0) return 'listener does not speak preamble version 1.0';
    if (mode === 1) return 'listener serves this port in datagram mode';
    if (mode === 255) return 'listener serves this port in stream mode';
  }
  return `unexpected preamble reply [${major}, ${minor}, ${mode}]`;
}
