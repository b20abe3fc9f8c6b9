/**
 * The mux frame codec (docs/tunnel-protocol.md, "Multiplexed streams"): a 12-byte big-endian header (type, flags,
 * reserved, stream id, length) and a payload of at most 64 KiB, one or more whole frames per WebSocket message.
 * Pure functions: encoding allocates one buffer per frame, decoding returns views into the message.
 */

/** Frame types of mux version 1. */
export const MuxFrameType = {
  DATA: 0,
  OPEN: 1,
  ACCEPT: 2,
  WINDOW: 3,
  RESET: 4,
  PING: 5,
  GOAWAY: 6,
} as const;

/** One of {@link MuxFrameType}. */
export type MuxFrameTypeValue = (typeof MuxFrameType)[keyof typeof MuxFrameType];

/** `DATA` flag: the sender's direction ends after this frame's bytes (a TCP FIN). */
export const FLAG_FIN = 0x01;
/** `PING` flag: this is the answer (it echoes the payload). */
export const FLAG_ACK = 0x02;

/** Header size in bytes. */
export const MUX_HEADER_BYTES = 12;
/** Largest payload of one frame (keeps a message far below MAX_RELAY_MESSAGE_BYTES). */
export const MUX_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Largest `OPEN` payload (the same bound as a warm connection's metadata frame). */
export const MUX_MAX_OPEN_BYTES = 4096;
/** Largest reason text in `RESET` and `GOAWAY` (as in a WebSocket close frame). */
export const MUX_MAX_REASON_BYTES = 123;
/** Stream ids stay below 2^31 (the top bit is kept clear, as in HTTP/2). */
export const MUX_MAX_STREAM_ID = 0x7fffffff;

/** A decoded frame; `payload` is a view into the message it came in. */
export interface MuxFrame {
  readonly type: MuxFrameTypeValue;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A frame that breaks the mux framing; the session answers it with GOAWAY 1002 and closes the connection. */
export class MuxProtocolError extends Error {
  override readonly name = 'MuxProtocolError';
}

/** Encodes one frame into a fresh buffer (never reused: ws masks client buffers in place). */
export function encodeFrame(
  type: MuxFrameTypeValue,
  flags: number,
  streamId: number,
  payload?: Buffer,
): Buffer {
  const length = payload?.length ?? 0;
  if (length > MUX_MAX_PAYLOAD_BYTES) throw new RangeError(`mux payload of ${length} bytes is above 64 KiB`);
  const frame = Buffer.allocUnsafe(MUX_HEADER_BYTES + length);
  frame.writeUInt8(type, 0);
  frame.writeUInt8(flags, 1);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt32BE(streamId, 4);
  frame.writeUInt32BE(length, 8);
  if (payload && length > 0) payload.copy(frame, MUX_HEADER_BYTES);
  return frame;
}

/** `WINDOW` frame granting `increment` more bytes on a stream. */
export function encodeWindow(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return encodeFrame(MuxFrameType.WINDOW, 0, streamId, payload);
}

/** `RESET` frame with a close code (docs/tunnel-protocol.md §2) and a short reason. */
export function encodeReset(streamId: number, code: number, reason: string): Buffer {
  const text = cutReason(reason);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return encodeFrame(MuxFrameType.RESET, 0, streamId, payload);
}

/** `GOAWAY` frame: no new streams above `lastStreamId`. */
export function encodeGoAway(lastStreamId: number, code: number, reason: string): Buffer {
  const text = cutReason(reason);
  const payload = Buffer.allocUnsafe(6 + text.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt16BE(code, 4);
  text.copy(payload, 6);
  return encodeFrame(MuxFrameType.GOAWAY, 0, 0, payload);
}

/** Reads a `WINDOW` payload. */
export function windowIncrement(frame: MuxFrame): number {
  return frame.payload.readUInt32BE(0);
}

/** Reads a `RESET` payload. */
export function resetOf(frame: MuxFrame): { code: number; reason: string } {
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** Reads a `GOAWAY` payload. */
export function goAwayOf(frame: MuxFrame): { lastStreamId: number; code: number; reason: string } {
  return {
    lastStreamId: frame.payload.readUInt32BE(0),
    code: frame.payload.readUInt16BE(4),
    reason: frame.payload.subarray(6).toString('utf8'),
  };
}

/**
 * Splits one WebSocket message into frames and checks each header and payload size; throws a
 * {@link MuxProtocolError} naming the first problem. Stream-level rules (ids, windows, states) are the session's.
 */
export function decodeFrames(message: Buffer): MuxFrame[] {
  const frames: MuxFrame[] = [];
  let offset = 0;
  if (message.length === 0) throw new MuxProtocolError('empty message');
  while (offset < message.length) {
    if (message.length - offset < MUX_HEADER_BYTES) throw new MuxProtocolError('frame header cut short');
    const type = message.readUInt8(offset);
    const flags = message.readUInt8(offset + 1);
    const reserved = message.readUInt16BE(offset + 2);
    const streamId = message.readUInt32BE(offset + 4);
    const length = message.readUInt32BE(offset + 8);
    if (reserved !== 0) throw new MuxProtocolError('reserved header bits set');
    if (length > MUX_MAX_PAYLOAD_BYTES) throw new MuxProtocolError(`frame length ${length} above 64 KiB`);
    const start = offset + MUX_HEADER_BYTES;
    if (start + length > message.length) throw new MuxProtocolError('frame longer than its message');
    const frame = {
      type: type as MuxFrameTypeValue,
      flags,
      streamId,
      payload: message.subarray(start, start + length),
    };
    checkFrame(frame, type);
    frames.push(frame);
    offset = start + length;
  }
  return frames;
}

function checkFrame(frame: MuxFrame, type: number): void {
  const { flags, streamId, payload } = frame;
  if (streamId > MUX_MAX_STREAM_ID) throw new MuxProtocolError('stream id above 2^31-1');
  const onStream = (name: string): void => {
    if (streamId === 0) throw new MuxProtocolError(`${name} on stream 0`);
  };
  const onConnection = (name: string): void => {
    if (streamId !== 0) throw new MuxProtocolError(`${name} on a stream`);
  };
  const noFlags = (name: string, allowed = 0): void => {
    if ((flags & ~allowed) !== 0) throw new MuxProtocolError(`unknown flags on ${name}`);
  };
  switch (type) {
    case MuxFrameType.DATA:
      onStream('DATA');
      noFlags('DATA', FLAG_FIN);
      if (payload.length === 0 && (flags & FLAG_FIN) === 0)
        throw new MuxProtocolError('empty DATA without FIN');
      return;
    case MuxFrameType.OPEN:
      onStream('OPEN');
      noFlags('OPEN');
      if (payload.length === 0 || payload.length > MUX_MAX_OPEN_BYTES)
        throw new MuxProtocolError('OPEN payload empty or above 4 KiB');
      return;
    case MuxFrameType.ACCEPT:
      onStream('ACCEPT');
      noFlags('ACCEPT');
      if (payload.length !== 0) throw new MuxProtocolError('ACCEPT with a payload');
      return;
    case MuxFrameType.WINDOW:
      onStream('WINDOW');
      noFlags('WINDOW');
      if (payload.length !== 4) throw new MuxProtocolError('WINDOW payload is not 4 bytes');
      if (payload.readUInt32BE(0) === 0) throw new MuxProtocolError('WINDOW increment of 0');
      return;
    case MuxFrameType.RESET:
      onStream('RESET');
      noFlags('RESET');
      if (payload.length < 2 || payload.length > 2 + MUX_MAX_REASON_BYTES)
        throw new MuxProtocolError('RESET payload of a wrong size');
      return;
    case MuxFrameType.PING:
      onConnection('PING');
      noFlags('PING', FLAG_ACK);
      if (payload.length !== 8) throw new MuxProtocolError('PING payload is not 8 bytes');
      return;
    case MuxFrameType.GOAWAY:
      onConnection('GOAWAY');
      noFlags('GOAWAY');
      if (payload.length < 6 || payload.length > 6 + MUX_MAX_REASON_BYTES)
        throw new MuxProtocolError('GOAWAY payload of a wrong size');
      return;
    default:
      throw new MuxProtocolError(`unknown frame type ${type}`);
  }
}

/** UTF-8 reason cut to 123 bytes on a character boundary. */
function cutReason(reason: string): Buffer {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MUX_MAX_REASON_BYTES) return bytes;
  let end = MUX_MAX_REASON_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
