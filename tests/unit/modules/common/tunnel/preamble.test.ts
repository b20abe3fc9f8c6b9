import {
  describeReply,
  encodePreamble,
  encodePreambleReply,
  MAX_PORT_NAME_BYTES,
  PreambleDecoder,
  PreambleMode,
  PreambleReplyDecoder,
  TunnelError,
  type Preamble,
} from '../../../../../modules/common/src/tunnel';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeAll(chunks: Buffer[]): { value: Preamble; rest: Buffer } | undefined {
  const decoder = new PreambleDecoder();
  const rests: Buffer[] = [];
  let value: Preamble | undefined;
  for (const chunk of chunks) {
    if (value) {
      rests.push(chunk);
      continue;
    }
    const result = decoder.push(chunk);
    if (result) {
      value = result.value;
      rests.push(result.rest);
    }
  }
  return value ? { value, rest: Buffer.concat(rests) } : undefined;
}

function decodeError(bytes: Buffer): TunnelError {
  try {
    new PreambleDecoder().push(bytes);
  } catch (err) {
    return err as TunnelError;
  }
  throw new Error('expected the decoder to throw');
}

describe('preamble encoding', () => {
  it('encodes [1, 0, mode, len] + UTF-8 port name', () => {
    expect(encodePreamble('sql').equals(hex('01 00 00 03 73 71 6c'))).toBe(true);
    expect(encodePreamble('x', PreambleMode.DATAGRAM).equals(hex('01 00 01 01 78'))).toBe(true);
  });

  it('counts the length in UTF-8 bytes, not characters', () => {
    const bytes = encodePreamble('zürich');
    expect(bytes[3]).toBe(7);
    expect(bytes.subarray(4).toString('utf8')).toBe('zürich');
  });

  it('encodes the listener reply [1, 0, mode]', () => {
    expect(encodePreambleReply().equals(hex('01 00 00'))).toBe(true);
  });

  it('accepts a 255-byte name and refuses 256 bytes or an empty name', () => {
    expect(encodePreamble('a'.repeat(MAX_PORT_NAME_BYTES))[3]).toBe(255);
    expect(() => encodePreamble('a'.repeat(256))).toThrow(
      expect.objectContaining({ code: 'TUNNEL_BAD_PREAMBLE' }),
    );
    expect(() => encodePreamble('é'.repeat(128))).toThrow(/256 bytes/);
    expect(() => encodePreamble('')).toThrow(/empty/);
  });
});

describe('PreambleDecoder', () => {
  const name = 'web-ünïcode-服务';
  const preamble = encodePreamble(name);
  const payload = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  const stream = Buffer.concat([preamble, payload]);

  it('decodes a preamble delivered in one chunk', () => {
    const result = new PreambleDecoder().push(preamble);
    expect(result?.value).toEqual({ mode: PreambleMode.STREAM, portName: name });
    expect(result?.rest.length).toBe(0);
  });

  it('keeps payload that shares the chunk with the preamble', () => {
    const result = new PreambleDecoder().push(stream);
    expect(result?.value.portName).toBe(name);
    expect(result?.rest.equals(payload)).toBe(true);
  });

  it('decodes the same preamble split at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const result = decodeAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(result?.value.portName).toBe(name);
      expect(result?.rest.equals(payload)).toBe(true);
    }
  });

  it('decodes a preamble that arrives one byte per chunk', () => {
    const chunks = [...stream].map((b) => Buffer.from([b]));
    const result = decodeAll(chunks);
    expect(result?.value.portName).toBe(name);
    expect(result?.rest.equals(payload)).toBe(true);
  });

  it('waits for more bytes without deciding early', () => {
    const decoder = new PreambleDecoder();
    expect(decoder.push(Buffer.alloc(0))).toBeUndefined();
    expect(decoder.push(preamble.subarray(0, 4))).toBeUndefined();
    expect(decoder.push(preamble.subarray(4, 6))).toBeUndefined();
    expect(decoder.push(preamble.subarray(6))?.value.portName).toBe(name);
  });

  it('rejects an unsupported version as soon as the byte arrives', () => {
    expect(decodeError(hex('02'))).toMatchObject({
      code: 'TUNNEL_BAD_PREAMBLE',
      closeCode: 4400,
      retryable: false,
    });
    expect(decodeError(hex('01 01'))).toMatchObject({
      code: 'TUNNEL_BAD_PREAMBLE',
      message: expect.stringMatching(/minor/),
    });
    // an HTTP request sent by mistake is not a preamble
    expect(decodeError(Buffer.from('GET / HTTP/1.1')).closeCode).toBe(4400);
  });

  it('rejects an unknown mode and an empty name', () => {
    expect(decodeError(hex('01 00 02 01 61')).message).toMatch(/mode 2/);
    expect(decodeError(hex('01 00 00 00')).message).toMatch(/empty/);
  });

  it('accepts the longest name the length byte allows', () => {
    const long = 'n'.repeat(255);
    expect(new PreambleDecoder().push(encodePreamble(long))?.value.portName).toBe(long);
  });

  it('rejects a port name that is not valid UTF-8', () => {
    expect(decodeError(hex('01 00 00 02 c3 28'))).toMatchObject({
      code: 'TUNNEL_BAD_PREAMBLE',
      message: expect.stringMatching(/UTF-8/),
    });
    expect(decodeError(hex('01 00 00 01 ff')).closeCode).toBe(4400);
  });

  it('reports datagram mode for the caller to refuse', () => {
    expect(new PreambleDecoder().push(encodePreamble('dns', PreambleMode.DATAGRAM))?.value.mode).toBe(
      PreambleMode.DATAGRAM,
    );
  });
});

describe('PreambleReplyDecoder and describeReply', () => {
  it('decodes a reply split at every offset and keeps what follows', () => {
    const stream = Buffer.concat([encodePreambleReply(), Buffer.from('220 smtp ready')]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new PreambleReplyDecoder();
      const first = decoder.push(stream.subarray(0, cut));
      const result = first ?? decoder.push(stream.subarray(cut));
      const rest = first ? Buffer.concat([first.rest, stream.subarray(cut)]) : result?.rest;
      expect(result?.value).toEqual({ major: 1, minor: 0, mode: 0 });
      expect(rest?.toString()).toBe('220 smtp ready');
    }
  });

  it('explains azbridge refusals and anything else unexpected', () => {
    expect(describeReply({ major: 1, minor: 0, mode: 0 }, PreambleMode.STREAM)).toBeUndefined();
    expect(describeReply({ major: 0, minor: 0, mode: 0 }, PreambleMode.STREAM)).toMatch(/version/);
    expect(describeReply({ major: 0, minor: 0, mode: 1 }, PreambleMode.STREAM)).toMatch(/datagram/);
    expect(describeReply({ major: 0, minor: 0, mode: 255 }, PreambleMode.DATAGRAM)).toMatch(/stream/);
    expect(describeReply({ major: 1, minor: 0, mode: 1 }, PreambleMode.STREAM)).toMatch(/unexpected/);
  });
});
