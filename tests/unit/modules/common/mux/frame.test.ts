import {
  decodeFrames,
  encodeFrame,
  encodeGoAway,
  encodeReset,
  encodeWindow,
  FLAG_FIN,
  goAwayOf,
  MuxFrameType,
  MuxProtocolError,
  resetOf,
  windowIncrement,
} from '../../../../../modules/common/src/mux/frame';
import { decodeOpenMeta, encodeOpenMeta } from '../../../../../modules/common/src/mux/open-meta';
import { formatMuxAccept, offersMux, parseMuxAccept } from '../../../../../modules/common/src/mux/negotiate';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

function problem(message: Buffer): string {
  try {
    decodeFrames(message);
  } catch (err) {
    expect(err).toBeInstanceOf(MuxProtocolError);
    return (err as Error).message;
  }
  throw new Error('decoded without a problem');
}

describe('mux frame codec', () => {
  it('encodes the 12-byte header big endian, then the payload', () => {
    const frame = encodeFrame(MuxFrameType.DATA, FLAG_FIN, 3, Buffer.from('hi'));
    expect(frame.toString('hex')).toBe('000100000000000300000002' + '6869');
  });

  it('decodes several frames from one message, payloads as views', () => {
    const message = Buffer.concat([
      encodeFrame(MuxFrameType.DATA, 0, 1, Buffer.from('abc')),
      encodeWindow(1, 65536),
      encodeReset(5, 4502, 'target refused the connection'),
      encodeGoAway(7, 1000, 'draining'),
    ]);
    const frames = decodeFrames(message);
    expect(frames.map((f) => [f.type, f.streamId])).toEqual([
      [MuxFrameType.DATA, 1],
      [MuxFrameType.WINDOW, 1],
      [MuxFrameType.RESET, 5],
      [MuxFrameType.GOAWAY, 0],
    ]);
    expect(frames[0].payload.toString()).toBe('abc');
    expect(windowIncrement(frames[1])).toBe(65536);
    expect(resetOf(frames[2])).toEqual({ code: 4502, reason: 'target refused the connection' });
    expect(goAwayOf(frames[3])).toEqual({ lastStreamId: 7, code: 1000, reason: 'draining' });
  });

  it('cuts long reasons to 123 bytes on a character boundary', () => {
    const reset = decodeFrames(encodeReset(1, 4500, 'é'.repeat(100)))[0];
    const { reason } = resetOf(reset);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason).toBe('é'.repeat(61));
  });

  it('refuses malformed frames with a reason naming the problem', () => {
    expect(problem(Buffer.alloc(0))).toBe('empty message');
    expect(problem(hex('00 00 00 00 00 00 00'))).toBe('frame header cut short');
    expect(problem(hex('00 00 00 01 00000001 00000001 ff'))).toBe('reserved header bits set');
    expect(problem(hex('00 00 0000 00000001 00010001'))).toBe('frame length 65537 above 64 KiB');
    expect(problem(hex('00 00 0000 00000001 00000005 6869'))).toBe('frame longer than its message');
    expect(problem(hex('09 00 0000 00000001 00000000'))).toBe('unknown frame type 9');
    expect(problem(hex('00 00 0000 00000000 00000001 ff'))).toBe('DATA on stream 0');
    expect(problem(hex('00 00 0000 00000001 00000000'))).toBe('empty DATA without FIN');
    expect(problem(hex('00 04 0000 00000001 00000001 ff'))).toBe('unknown flags on DATA');
    expect(problem(hex('03 00 0000 00000001 00000004 00000000'))).toBe('WINDOW increment of 0');
    expect(problem(hex('03 00 0000 00000001 00000002 0001'))).toBe('WINDOW payload is not 4 bytes');
    expect(problem(hex('02 00 0000 00000001 00000001 00'))).toBe('ACCEPT with a payload');
    expect(problem(hex('04 00 0000 00000001 00000001 00'))).toBe('RESET payload of a wrong size');
    expect(problem(hex('05 00 0000 00000001 00000008 0000000000000000'))).toBe('PING on a stream');
    expect(problem(hex('05 00 0000 00000000 00000004 00000000'))).toBe('PING payload is not 8 bytes');
    expect(problem(hex('06 00 0000 00000000 00000002 0000'))).toBe('GOAWAY payload of a wrong size');
    expect(problem(hex('01 00 0000 00000001 00000000'))).toBe('OPEN payload empty or above 4 KiB');
    expect(problem(hex('00 00 0000 80000001 00000001 ff'))).toBe('stream id above 2^31-1');
  });

  it('refuses to encode a payload above 64 KiB', () => {
    expect(() => encodeFrame(MuxFrameType.DATA, 0, 1, Buffer.alloc(65537))).toThrow(RangeError);
  });
});

describe('mux OPEN metadata', () => {
  it('round-trips the port and the per-client headers', () => {
    const meta = { port: 'sql', headers: { 'x-hrf-client': '203.0.113.7:51234', traceparent: 'x' } };
    const payload = encodeOpenMeta(meta)!;
    expect(JSON.parse(payload.toString())).toEqual(meta);
    expect(decodeOpenMeta(payload)).toEqual(meta);
  });

  it('will not carry other headers or an oversized port name', () => {
    expect(encodeOpenMeta({ port: 'sql', headers: { baggage: 'x' } })).toBeUndefined();
    expect(encodeOpenMeta({ port: 'x'.repeat(256), headers: {} })).toBeUndefined();
    expect(encodeOpenMeta({ port: '', headers: {} })).toBeUndefined();
  });

  it('refuses payloads outside the rules with a reason', () => {
    const decode = (text: string): unknown => decodeOpenMeta(Buffer.from(text));
    expect(decode('nope')).toEqual({ problem: 'OPEN payload is not JSON' });
    expect(decode('[]')).toEqual({ problem: 'OPEN payload is not a JSON object' });
    expect(decode('{"port":"a","headers":{},"x":1}')).toEqual({
      problem: 'OPEN payload has an unknown name',
    });
    expect(decode('{"port":3,"headers":{}}')).toEqual({
      problem: 'OPEN port name missing or longer than 255 bytes',
    });
    expect(decode('{"port":"a","headers":[]}')).toEqual({ problem: 'OPEN headers are not an object' });
    expect(decode('{"port":"a","headers":{"baggage":"x"}}')).toEqual({
      problem: 'OPEN client metadata has an unknown name or a non-string value',
    });
  });
});

describe('mux negotiation', () => {
  it('finds the offer case-insensitively and parses the accept frame strictly', () => {
    expect(offersMux({ 'X-HRF-Mux': '1' })).toBe(true);
    expect(offersMux({ 'x-hrf-mux': '2' })).toBe(false);
    expect(offersMux(undefined)).toBe(false);
    expect(parseMuxAccept(formatMuxAccept(1024))).toEqual({ maxStreams: 1024 });
    expect(parseMuxAccept('hrf:mux:1 max-streams=0')).toBeUndefined();
    expect(parseMuxAccept('hrf:warm')).toBeUndefined();
  });
});
