import {
  encodeProxyHeader,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
} from '../../../../../modules/common/src/net/proxy-protocol';

describe('PROXY protocol encode/parse', () => {
  const src4 = { address: '203.0.113.7', port: 40001 };
  const dst4 = { address: '192.0.2.1', port: 443 };
  const src6 = { address: '2001:db8::7', port: 5000 };
  const dst6 = { address: 'fd00::1:2', port: 22 };

  it('v1 TCP4 is the exact text line and parses back', () => {
    const header = encodeProxyHeader('v1', src4, dst4);
    expect(header.toString()).toBe('PROXY TCP4 203.0.113.7 192.0.2.1 40001 443\r\n');
    expect(parseProxyHeader(Buffer.concat([header, Buffer.from('rest')]))).toEqual({
      status: 'ok',
      header: { version: 1, source: src4, destination: dst4 },
      length: header.length,
    });
  });

  it('v2 TCP4 has the signature, PROXY command, family 0x11 and 12 address bytes', () => {
    const header = encodeProxyHeader('v2', src4, dst4);
    expect(header.subarray(0, 12).equals(PROXY_V2_SIGNATURE)).toBe(true);
    expect(header.subarray(12).toString('hex')).toBe('2111000ccb007107c00002019c4101bb');
    expect(parseProxyHeader(header)).toEqual({
      status: 'ok',
      header: { version: 2, source: src4, destination: dst4 },
      length: 28,
    });
  });

  it.each(['v1', 'v2'] as const)('%s TCP6 round-trips, mixed families are sent as IPv6', (version) => {
    const header = encodeProxyHeader(version, src6, dst6);
    expect(parseProxyHeader(header)).toMatchObject({
      status: 'ok',
      header: { source: src6, destination: dst6 },
    });
    const mixed = parseProxyHeader(encodeProxyHeader(version, src4, dst6));
    expect(mixed).toMatchObject({
      status: 'ok',
      header: { source: { address: '::ffff:203.0.113.7', port: 40001 } },
    });
  });

  it('without a client: v1 UNKNOWN and v2 LOCAL, both parse as no address', () => {
    expect(encodeProxyHeader('v1', undefined, dst4).toString()).toBe('PROXY UNKNOWN\r\n');
    expect(parseProxyHeader(encodeProxyHeader('v1', undefined, dst4))).toEqual({
      status: 'ok',
      header: { version: 1 },
      length: 15,
    });
    expect(parseProxyHeader(encodeProxyHeader('v2', undefined, dst4))).toEqual({
      status: 'ok',
      header: { version: 2 },
      length: 16,
    });
  });

  it('asks for more bytes on every prefix of a valid header', () => {
    for (const header of [encodeProxyHeader('v1', src6, dst6), encodeProxyHeader('v2', src6, dst6)])
      for (let n = 0; n < header.length; n++)
        expect(parseProxyHeader(header.subarray(0, n))).toEqual({ status: 'incomplete' });
  });

  it.each([
    ['not a PROXY header', 'GET / HTTP/1.1\r\n', /no PROXY protocol header/],
    ['a wrong family', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol "UDP4"/],
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /not TCP4 literals/],
    ['a port above 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /ports must be decimal/],
    ['a port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /ports must be decimal/],
    ['missing fields', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /malformed PROXY v1 line/],
    ['a line longer than 107 bytes', `PROXY TCP4 ${'9'.repeat(100)}`, /longer than 107/],
  ])('refuses v1 with %s', (_what, text, message) => {
    const result = parseProxyHeader(Buffer.from(text, 'latin1'));
    expect(result).toMatchObject({ status: 'invalid' });
    expect((result as { message: string }).message).toMatch(message);
  });

  it.each([
    ['version 3', [0x31, 0x11, 0, 12], /unsupported version 3/],
    ['command 2', [0x22, 0x11, 0, 12], /unknown command 2/],
    ['a length over the bound', [0x21, 0x11, 0xff, 0xff], /exceeds/],
    ['too few IPv4 bytes', [0x21, 0x11, 0, 4, 1, 2, 3, 4], /needs 12 address bytes/],
  ])('refuses v2 with %s', (_what, bytes, message) => {
    const result = parseProxyHeader(Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from(bytes)]));
    expect(result).toMatchObject({ status: 'invalid' });
    expect((result as { message: string }).message).toMatch(message);
  });
});
