import {
  clientAddressHeaders,
  clientCertHeaders,
  readClientAddress,
  readClientCert,
} from '../../../../../modules/common/src/tunnel/client-address';

describe('x-hrf-client header', () => {
  it('formats IPv4 and IPv6 clients and reads them back (any header casing)', () => {
    expect(clientAddressHeaders('203.0.113.7', 40001)).toEqual({ 'x-hrf-client': '203.0.113.7:40001' });
    expect(clientAddressHeaders('2001:db8::7', 5)).toEqual({ 'x-hrf-client': '[2001:db8::7]:5' });
    expect(readClientAddress({ 'X-HRF-Client': '[2001:db8::7]:5' })).toEqual({
      kind: 'valid',
      endpoint: { address: '2001:db8::7', port: 5 },
    });
  });

  it('sends nothing for a client whose address is gone', () => {
    expect(clientAddressHeaders(undefined, undefined)).toEqual({});
    expect(readClientAddress({})).toEqual({ kind: 'absent' });
  });

  it.each([
    '203.0.113.7',
    'host.example:80',
    '1.2.3.4:0',
    '1.2.3.4:65536',
    '2001:db8::7:80',
    '[1.2.3.4]:80',
    ' x',
  ])('refuses %j as malformed', (value) => {
    expect(readClientAddress({ 'x-hrf-client': value })).toMatchObject({ kind: 'malformed' });
  });

  it('refuses a repeated header', () => {
    expect(readClientAddress({ 'x-hrf-client': ['1.2.3.4:1', '5.6.7.8:2'] })).toMatchObject({
      kind: 'malformed',
    });
  });

  it('carries a verified client certificate as serial and printable subject; odd values are ignored', () => {
    const headers = clientCertHeaders({ serial: '1F2', subject: 'CN=scada;1,O=plant\u00e9' });
    expect(headers).toEqual({ 'x-hrf-client-cert': 'serial=1F2; subject=CN=scada?1,O=plant?' });
    expect(readClientCert(headers)).toBe('serial=1F2; subject=CN=scada?1,O=plant?');
    expect(readClientCert({ 'x-hrf-client-cert': 'serial=1F2; subject=a;b' })).toBeUndefined();
    expect(readClientCert({ 'x-hrf-client-cert': 'CN=root' })).toBeUndefined();
    expect(clientCertHeaders(undefined)).toEqual({});
  });
});
