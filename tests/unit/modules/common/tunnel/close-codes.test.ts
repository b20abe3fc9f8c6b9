import {
  closeCodeForTargetError,
  closeReason,
  FAILURE_CLOSE_CODES,
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  TunnelCloseCode,
  TunnelError,
  tunnelErrorForCode,
  tunnelErrorFromClose,
} from '../../../../../modules/common/src/tunnel';

describe('failure close codes', () => {
  it.each([
    [4400, 'TUNNEL_BAD_PREAMBLE', false],
    [4403, 'TUNNEL_SERVICE_DISABLED', false],
    [4404, 'TUNNEL_UNKNOWN_SERVICE', false],
    [4429, 'TUNNEL_SERVICE_BUSY', true],
    [4500, 'TUNNEL_TARGET_ERROR', true],
    [4502, 'TUNNEL_TARGET_REFUSED', true],
    [4503, 'TUNNEL_TARGET_UNRESOLVED', true],
    [4504, 'TUNNEL_TARGET_TIMEOUT', true],
    [4408, 'TUNNEL_IDLE_TIMEOUT', false],
    [4410, 'TUNNEL_PEER_RESET', false],
  ])('close code %i becomes %s (retryable %s)', (code, errorCode, retryable) => {
    const err = tunnelErrorFromClose(code, 'why');
    expect(err).toBeInstanceOf(TunnelError);
    expect(err).toMatchObject({ code: errorCode, retryable, closeCode: code });
    expect(err.message).toContain('why');
  });

  it('keeps the table and the named constants in step', () => {
    for (const code of FAILURE_CLOSE_CODES.keys()) expect(Object.values(TunnelCloseCode)).toContain(code);
    for (const meaning of FAILURE_CLOSE_CODES.values()) {
      expect(Buffer.byteLength(meaning.defaultReason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    }
  });

  it('maps closes outside the table', () => {
    expect(tunnelErrorFromClose(1000, '').code).toBe('TUNNEL_CLOSED_EARLY');
    expect(tunnelErrorFromClose(1005, '').code).toBe('TUNNEL_CLOSED_EARLY');
    expect(tunnelErrorFromClose(1006, '')).toMatchObject({ code: 'TUNNEL_RELAY_LOST', retryable: true });
    expect(tunnelErrorFromClose(1002, '')).toMatchObject({ code: 'TUNNEL_PROTOCOL', retryable: false });
    expect(tunnelErrorFromClose(1011, '')).toMatchObject({ code: 'TUNNEL_REMOTE_ERROR', retryable: true });
    expect(tunnelErrorFromClose(4999, '').code).toBe('TUNNEL_REMOTE_ERROR');
  });

  it('maps a message too big, received (1009) or refused here (ws error, seen as 1006)', () => {
    expect(tunnelErrorFromClose(1009, '')).toMatchObject({
      code: 'TUNNEL_MESSAGE_TOO_BIG',
      retryable: false,
      closeCode: 1009,
    });
    const wsError = Object.assign(new RangeError('Max payload size exceeded'), {
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
    expect(tunnelErrorFromClose(1006, '', wsError)).toMatchObject({
      code: 'TUNNEL_MESSAGE_TOO_BIG',
      closeCode: 1009,
      cause: wsError,
    });
  });

  it('builds the error to send with the default reason', () => {
    expect(tunnelErrorForCode(4502)).toMatchObject({
      code: 'TUNNEL_TARGET_REFUSED',
      message: 'target refused the connection',
    });
    expect(tunnelErrorForCode(4404, 'unknown service "x"').message).toBe('unknown service "x"');
  });

  it('knows which codes may be sent', () => {
    expect(isSendableCloseCode(1000)).toBe(true);
    expect(isSendableCloseCode(4504)).toBe(true);
    expect(isSendableCloseCode(1005)).toBe(false);
    expect(isSendableCloseCode(1006)).toBe(false);
    expect(isSendableCloseCode(2000)).toBe(false);
  });
});

describe('closeReason', () => {
  it('leaves short text alone', () => {
    expect(closeReason('target refused the connection')).toBe('target refused the connection');
  });

  it('cuts to 123 bytes without splitting a character', () => {
    const cut = closeReason('é'.repeat(100)); // 200 bytes
    expect(Buffer.byteLength(cut)).toBe(122);
    expect(cut).toBe('é'.repeat(61));
    expect(Buffer.byteLength(closeReason('a'.repeat(500)))).toBe(123);
    expect(closeReason('a'.repeat(122) + '€')).toBe('a'.repeat(122));
  });
});

describe('closeCodeForTargetError', () => {
  const errno = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`connect ${code} 10.0.0.5:1433`), { code });

  it.each([
    ['ECONNREFUSED', 4502],
    ['ENOTFOUND', 4503],
    ['EAI_AGAIN', 4503],
    ['ETIMEDOUT', 4504],
    ['EHOSTUNREACH', 4500],
    ['ECONNRESET', 4500],
  ])('%s → %i', (code, closeCode) => {
    expect(closeCodeForTargetError(errno(code))).toBe(closeCode);
  });

  it('keeps a TunnelError close code and treats a TimeoutError as a connect timeout', () => {
    expect(closeCodeForTargetError(tunnelErrorForCode(4429))).toBe(4429);
    expect(closeCodeForTargetError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(4504);
    expect(closeCodeForTargetError(undefined)).toBe(4500);
    expect(closeCodeForTargetError(new TunnelError('TUNNEL_ABORTED', 'x', false, 1001))).toBe(4500);
  });
});
