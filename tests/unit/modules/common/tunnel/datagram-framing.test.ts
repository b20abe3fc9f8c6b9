import {
  DatagramDecoder,
  encodeDatagram,
  MAX_FRAMED_DATAGRAM_BYTES,
} from '../../../../../modules/common/src/tunnel/datagram-framing';

const hex = (b: Buffer): string => b.toString('hex');

describe('datagram framing (azbridge: 2-byte big-endian length + payload)', () => {
  it('encodes the length big-endian before the payload', () => {
    expect(hex(encodeDatagram(Buffer.from('dns')))).toBe('0003646e73');
    expect(hex(encodeDatagram(Buffer.alloc(0)))).toBe('0000');
    expect(encodeDatagram(Buffer.alloc(300)).subarray(0, 2)).toEqual(Buffer.from([1, 44]));
    expect(() => encodeDatagram(Buffer.alloc(MAX_FRAMED_DATAGRAM_BYTES + 1))).toThrow(/2-byte length/);
  });

  it('decodes several datagrams in one message, and one datagram over many, byte by byte', () => {
    const datagrams = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(700, 7), Buffer.from('last')];
    const stream = Buffer.concat(datagrams.map(encodeDatagram));
    const whole = new DatagramDecoder().push(stream);
    expect(whole.datagrams).toEqual(datagrams);
    const decoder = new DatagramDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...decoder.push(stream.subarray(i, i + 1)).datagrams);
      // Partial everywhere but at datagram boundaries.
      const boundary = [7, 9, 711, stream.length].includes(i + 1);
      expect(decoder.partial).toBe(!boundary);
    }
    expect(got).toEqual(datagrams);
  });

  it('skips a datagram above the bound without holding it, reports its size, and goes on', () => {
    const decoder = new DatagramDecoder(100);
    const stream = Buffer.concat([encodeDatagram(Buffer.alloc(101, 1)), encodeDatagram(Buffer.from('ok'))]);
    const first = decoder.push(stream.subarray(0, 50));
    expect(first).toEqual({ datagrams: [], oversized: [101] });
    const rest = decoder.push(stream.subarray(50));
    expect(rest).toEqual({ datagrams: [Buffer.from('ok')], oversized: [] });
    expect(decoder.partial).toBe(false);
  });

  it('keeps a datagram exactly at the bound', () => {
    const payload = Buffer.alloc(100, 3);
    expect(new DatagramDecoder(100).push(encodeDatagram(payload)).datagrams).toEqual([payload]);
  });
});
