import {
  ACCEPT,
  connectHeader,
  parseAcceptMessage,
  rejectWith,
} from '../../../../../modules/common/src/hc/accept-message';

describe('parseAcceptMessage', () => {
  it('reads address, id, connectHeaders and remoteEndpoint', () => {
    const message = JSON.parse(
      JSON.stringify({
        accept: {
          address: 'wss://g1/$hc/hyco?sb-hc-action=accept&sb-hc-id=1',
          id: '1',
          connectHeaders: { Host: 'ns', 'X-Half-Close': 'fin-v1', 'Sec-WebSocket-Version': 13 },
          remoteEndpoint: { address: '203.0.113.9', port: 50123 },
        },
      }),
    );
    expect(parseAcceptMessage(message)).toEqual({
      id: '1',
      address: 'wss://g1/$hc/hyco?sb-hc-action=accept&sb-hc-id=1',
      connectHeaders: { Host: 'ns', 'X-Half-Close': 'fin-v1', 'Sec-WebSocket-Version': '13' },
      remoteEndpoint: { address: '203.0.113.9', port: 50123 },
    });
  });

  it('tolerates missing optional parts', () => {
    expect(parseAcceptMessage({ accept: { address: 'wss://x/' } })).toEqual({
      id: '',
      address: 'wss://x/',
      connectHeaders: {},
    });
  });

  it.each([
    [null],
    [42],
    [{}],
    [{ accept: null }],
    [{ accept: { id: '1' } }],
    [{ request: { address: 'wss://x' } }],
  ])('returns undefined for %j', (message) => {
    expect(parseAcceptMessage(message)).toBeUndefined();
  });

  it('looks headers up case-insensitively', () => {
    const request = parseAcceptMessage({
      accept: { address: 'wss://x/', connectHeaders: { 'X-Half-Close': 'v1' } },
    })!;
    expect(connectHeader(request, 'x-half-close')).toBe('v1');
    expect(connectHeader(request, 'x-missing')).toBeUndefined();
  });
});

describe('decisions', () => {
  it('ACCEPT accepts; rejectWith carries code and description', () => {
    expect(ACCEPT).toEqual({ accept: true });
    expect(rejectWith(403, 'nope')).toEqual({ accept: false, statusCode: 403, statusDescription: 'nope' });
  });

  it('refuses codes that are not errors', () => {
    expect(() => rejectWith(200, 'ok')).toThrow(RangeError);
    expect(() => rejectWith(99.5, 'x')).toThrow(RangeError);
  });
});
