import fc from 'fast-check';
import {
  encodeProxyHeader,
  MAX_PROXY_HEADER_BYTES,
  parseProxyHeader,
} from '../../../../sandbox/src/relay/tls-front/proxy-header';

describe('PROXY v1 header (TLS fronts → relay core)', () => {
  it('round-trips IPv4 and IPv6 peers and keeps the bytes after the line', () => {
    const rest = Buffer.from('GET /$hc/x HTTP/1.1\r\n');
    for (const address of ['127.0.0.1', '::1']) {
      const line = encodeProxyHeader({ address, port: 50123 }, { address, port: 443 });
      const parsed = parseProxyHeader(Buffer.concat([Buffer.from(line), rest]));
      expect(parsed).toEqual({ ok: true, peer: { address, port: 50123 }, rest });
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_PROXY_HEADER_BYTES);
    }
  });

  it('waits for the CRLF, then refuses what is not a PROXY line', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toBeUndefined();
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({
      ok: false,
      reason: 'not a PROXY line',
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 a b 99999 1\r\n'))).toMatchObject({ ok: false });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toMatchObject({ ok: true, peer: undefined });
    expect(parseProxyHeader(Buffer.alloc(200, 65))).toMatchObject({ ok: false });
  });

  it('never throws on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), (bytes) => {
        const parsed = parseProxyHeader(Buffer.from(bytes));
        if (parsed?.ok && parsed.peer) expect(Number.isInteger(parsed.peer.port)).toBe(true);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});
