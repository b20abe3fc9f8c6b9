import {
  errorForControlClose,
  errorForHandshakeStatus,
  errorForNetworkFailure,
  toRelayError,
} from '../../../../../modules/common/src/hc/handshake-errors';
import { RelayError } from '../../../../../modules/common/src/hc/errors';

describe('errorForHandshakeStatus', () => {
  it.each([
    ['connect', 401, 'RELAY_UNAUTHORIZED', false],
    ['connect', 403, 'RELAY_FORBIDDEN', false],
    ['connect', 404, 'RELAY_NO_LISTENER', true],
    ['connect', 410, 'RELAY_REJECTED', false],
    ['connect', 400, 'RELAY_REJECTED', false],
    ['connect', 500, 'RELAY_SERVER_ERROR', true],
    ['connect', 502, 'RELAY_SERVER_ERROR', true],
    ['connect', 503, 'RELAY_SERVER_ERROR', true],
    ['connect', 504, 'RELAY_TIMEOUT', true],
    ['connect', 408, 'RELAY_TIMEOUT', true],
    ['connect', 429, 'RELAY_SERVER_ERROR', true],
    ['listen', 401, 'RELAY_UNAUTHORIZED', false],
    ['listen', 403, 'RELAY_FORBIDDEN', false],
    ['listen', 404, 'RELAY_NOT_FOUND', false],
    ['listen', 500, 'RELAY_SERVER_ERROR', true],
    ['listen', 400, 'RELAY_PROTOCOL', false],
    ['accept', 403, 'RELAY_GONE', false],
    ['accept', 404, 'RELAY_GONE', false],
    ['accept', 410, 'RELAY_GONE', false],
    ['accept', 500, 'RELAY_SERVER_ERROR', true],
    ['reject', 410, 'RELAY_GONE', false],
    ['connect', 302, 'RELAY_PROTOCOL', false],
  ] as const)('%s %i → %s (retryable %s)', (action, status, code, retryable) => {
    const err = errorForHandshakeStatus(action, status, 'tracking id 123');
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ code, retryable, status });
    expect(err.message).toContain('tracking id 123');
  });
});

describe('errorForControlClose', () => {
  it.each([
    [1001, 'RELAY_NOT_FOUND'],
    [1008, 'RELAY_TOKEN_EXPIRED'],
    [1011, 'RELAY_SERVER_ERROR'],
    [1006, 'RELAY_NETWORK'],
    [1000, 'RELAY_NETWORK'],
    [4000, 'RELAY_PROTOCOL'],
  ])('close %i → %s, always retryable for a listener', (closeCode, code) => {
    expect(errorForControlClose(closeCode, 'why')).toMatchObject({ code, retryable: true });
  });
});

describe('errorForNetworkFailure', () => {
  it('treats refused connections as retryable and an untrusted certificate as not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(errorForNetworkFailure('connect', refused)).toMatchObject({
      code: 'RELAY_NETWORK',
      retryable: true,
    });
    const untrusted = Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(errorForNetworkFailure('listen', untrusted)).toMatchObject({
      code: 'RELAY_NETWORK',
      retryable: false,
    });
    expect(errorForNetworkFailure('listen')).toMatchObject({ code: 'RELAY_NETWORK', retryable: true });
  });

  it('toRelayError passes RelayErrors through and wraps anything else', () => {
    const original = new RelayError('RELAY_GONE', 'gone', false);
    expect(toRelayError(original)).toBe(original);
    expect(toRelayError(new Error('boom'))).toMatchObject({ code: 'RELAY_PROTOCOL', message: 'boom' });
    expect(toRelayError('text')).toMatchObject({ code: 'RELAY_PROTOCOL', message: 'text' });
  });
});
