// Failures before the first byte: every failure close code reaches the sender as the right TunnelError, with a
// short reason free of internal addresses, and the gateway's client is closed promptly.
import * as net from 'node:net';
import {
  acceptListenerTunnel,
  halfCloseOfferHeaders,
  openSenderTunnel,
  tunnelErrorForCode,
  TunnelError,
  type ListenerTunnelRequest,
} from '../../modules/common/src/tunnel';
import {
  aborted,
  checkLeaksAfterEach,
  connectTcp,
  echoUntilEof,
  openWsPair,
  peerClosed,
  startTcpServer,
  startTunnelPath,
  waitFor,
  type TestTcpServer,
  type TunnelPath,
  type WsPair,
} from '../support/tunnel-harness';

describe('tunnel failures before the first byte', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;
  let pair: WsPair | undefined;

  checkLeaksAfterEach(async () => {
    await path?.close();
    await target?.close();
    await pair?.close();
    path = target = pair = undefined;
  });

  describe('each failure close code from the listener becomes the right TunnelError at the sender', () => {
    it.each([
      [4400, 'TUNNEL_BAD_PREAMBLE', false],
      [4403, 'TUNNEL_SERVICE_DISABLED', false],
      [4404, 'TUNNEL_UNKNOWN_SERVICE', false],
      [4429, 'TUNNEL_SERVICE_BUSY', true],
      [4500, 'TUNNEL_TARGET_ERROR', true],
      [4502, 'TUNNEL_TARGET_REFUSED', true],
      [4503, 'TUNNEL_TARGET_UNRESOLVED', true],
      [4504, 'TUNNEL_TARGET_TIMEOUT', true],
    ])('fail(%i) → %s (retryable %s)', async (code, errorCode, retryable) => {
      pair = await openWsPair(halfCloseOfferHeaders());
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      const opened = openSenderTunnel(pair.sender, { portName: 'svc' });
      const request = await accepted;
      expect(request.portName).toBe('svc');
      request.fail(code);
      const err = await opened.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TunnelError);
      expect(err).toMatchObject({ code: errorCode, retryable, closeCode: code });
    });
  });

  async function failingPath(
    dial: (request: ListenerTunnelRequest) => Promise<net.Socket>,
  ): Promise<{ error: TunnelError; reason: string }> {
    path = await startTunnelPath({ services: { svc: 1 }, dial });
    const client = await connectTcp(path.gatewayPort);
    const clientClosed = peerClosed(client);
    client.write('hello');
    const conn = await path.connection(0);
    const error = (await conn.sender) as TunnelError;
    await clientClosed;
    await waitFor(() => conn.senderClose !== undefined, 'sender WebSocket close');
    client.destroy();
    return { error, reason: conn.senderClose?.reason ?? '' };
  }

  it('target refused (a real ECONNREFUSED) → 4502 without the target address in the reason', async () => {
    const gone = await startTcpServer(() => undefined);
    const port = gone.port;
    await gone.close();
    const result = await failingPath(
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ port, host: '127.0.0.1' });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    );
    expect(result.error).toMatchObject({ code: 'TUNNEL_TARGET_REFUSED', closeCode: 4502, retryable: true });
    expect(result.reason).toBe('target refused the connection');
    expect(result.error.message).not.toContain('127.0.0.1');
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN'])(
    'target name not resolved (%s from the resolver) → 4503',
    async (errno) => {
      const result = await failingPath(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            // A real connect whose DNS lookup fails the way getaddrinfo does, without depending on a DNS server.
            const s = net.connect({
              port: 1433,
              host: 'sql.corp.internal',
              lookup: (host, _options, callback) =>
                callback(Object.assign(new Error(`getaddrinfo ${errno} ${host}`), { code: errno }), '', 4),
            });
            s.once('connect', () => resolve(s));
            s.once('error', reject);
          }),
      );
      expect(result.error).toMatchObject({ code: 'TUNNEL_TARGET_UNRESOLVED', closeCode: 4503 });
      expect(result.reason).toBe('target name not resolved');
      expect(result.error.message).not.toContain('corp.internal');
    },
  );

  it('target connect timed out → 4504', async () => {
    const result = await failingPath(async () => {
      throw Object.assign(new Error('connect ETIMEDOUT 10.1.2.3:1433'), { code: 'ETIMEDOUT' });
    });
    expect(result.error).toMatchObject({ code: 'TUNNEL_TARGET_TIMEOUT', closeCode: 4504, retryable: true });
    expect(result.reason).not.toContain('10.1.2.3');
  });

  it('other target errors → 4500', async () => {
    const result = await failingPath(async () => {
      throw Object.assign(new Error('connect EHOSTUNREACH 10.1.2.3:1433'), { code: 'EHOSTUNREACH' });
    });
    expect(result.error).toMatchObject({ code: 'TUNNEL_TARGET_ERROR', closeCode: 4500 });
    expect(result.reason).toBe('target error');
  });

  it('service at its connection limit → 4429', async () => {
    const result = await failingPath(async () => {
      throw tunnelErrorForCode(4429);
    });
    expect(result.error).toMatchObject({ code: 'TUNNEL_SERVICE_BUSY', closeCode: 4429, retryable: true });
  });

  it('unknown port name → 4404 naming the service', async () => {
    target = await startTcpServer(echoUntilEof);
    path = await startTunnelPath({ services: { web: target.port }, portName: 'nope' });
    const client = await connectTcp(path.gatewayPort);
    const error = (await (await path.connection(0)).sender) as TunnelError;
    expect(error).toMatchObject({ code: 'TUNNEL_UNKNOWN_SERVICE', closeCode: 4404, retryable: false });
    expect(error.message).toContain('unknown service "nope"');
    await peerClosed(client);
    client.destroy();
  });

  describe('bad preambles are refused with 4400', () => {
    it.each([
      ['an unsupported version', Buffer.from([2, 0, 0, 1, 0x61]), /major version 2/],
      ['a port name that is not UTF-8', Buffer.from([1, 0, 0, 1, 0xff]), /UTF-8/],
      ['datagram mode', Buffer.from([1, 0, 1, 3, 0x64, 0x6e, 0x73]), /datagram/],
    ])('%s', async (_what, bytes, reason) => {
      pair = await openWsPair();
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      const senderClosed = new Promise<[number, string]>((resolve) =>
        pair!.sender.once('close', (code, why) => resolve([code, why.toString()])),
      );
      pair.sender.send(bytes);
      await expect(accepted).rejects.toMatchObject({ code: 'TUNNEL_BAD_PREAMBLE' });
      const [code, why] = await senderClosed;
      expect(code).toBe(4400);
      expect(why).toMatch(reason);
    });

    it('a text frame instead of the preamble', async () => {
      pair = await openWsPair();
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      pair.sender.send('hello');
      await expect(accepted).rejects.toMatchObject({ code: 'TUNNEL_BAD_PREAMBLE', closeCode: 4400 });
    });
  });

  it('a sender that never sends its preamble is closed with 4408', async () => {
    pair = await openWsPair();
    const senderClosed = new Promise<number>((resolve) =>
      pair!.sender.once('close', (code) => resolve(code)),
    );
    await expect(
      acceptListenerTunnel(pair.listener, pair.headers, { preambleTimeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: 'TUNNEL_HANDSHAKE_TIMEOUT',
    });
    expect(await senderClosed).toBe(4408);
  });

  it('a listener that never replies times out at the sender, and the listener sees the sender leave', async () => {
    let request: ListenerTunnelRequest | undefined;
    path = await startTunnelPath({
      services: { svc: 1 },
      replyTimeoutMs: 150,
      dial: (req) =>
        new Promise<net.Socket>((_resolve, reject) => {
          request = req;
          req.signal.addEventListener('abort', () => reject(new Error('sender left during the dial')));
        }),
    });
    const client = await connectTcp(path.gatewayPort);
    const conn = await path.connection(0);
    expect(await conn.sender).toMatchObject({ code: 'TUNNEL_HANDSHAKE_TIMEOUT', retryable: true });
    await conn.listener;
    expect(request?.signal.aborted).toBe(true);
    await waitFor(() => conn.senderClose !== undefined, 'sender WebSocket close');
    expect(conn.senderClose?.code).toBe(4408);
    await peerClosed(client);
    client.destroy();
  });

  it('confirm() throws when the sender left during the dial', async () => {
    pair = await openWsPair(halfCloseOfferHeaders());
    const accepted = acceptListenerTunnel(pair.listener, pair.headers);
    const opened = openSenderTunnel(pair.sender, { portName: 'svc' });
    const request = await accepted;
    pair.sender.close(1000);
    await expect(opened).rejects.toMatchObject({ code: 'TUNNEL_CLOSED_EARLY' });
    await aborted(request.signal);
    expect(() => request.confirm()).toThrow(expect.objectContaining({ code: 'TUNNEL_CLOSED_EARLY' }));
  });

  it('an aborted signal stops the wait for the reply with 1001', async () => {
    pair = await openWsPair();
    const controller = new AbortController();
    const accepted = acceptListenerTunnel(pair.listener, pair.headers);
    const opened = openSenderTunnel(pair.sender, { portName: 'svc', signal: controller.signal });
    const request = await accepted;
    controller.abort();
    await expect(opened).rejects.toMatchObject({ code: 'TUNNEL_ABORTED' });
    await aborted(request.signal);
    expect(pair.listener.readyState).toBe(pair.listener.CLOSED);
  });
});
