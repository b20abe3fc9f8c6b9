// Failures while bytes flow: a TCP reset, a lost WebSocket, idleness or an abort on one side ends the other side
// with the right code, and nothing stays open.
import type * as net from 'node:net';
import {
  acceptListenerTunnel,
  FIN_FRAME,
  halfCloseOfferHeaders,
  openSenderTunnel,
  pumpTunnel,
  type TunnelOutcome,
} from '../../modules/common/src/tunnel';
import {
  checkLeaksAfterEach,
  closed,
  connectTcp,
  openWsPair,
  peerClosed,
  startTcpServer,
  startTunnelPath,
  tcpSocketPair,
  waitFor,
  type TestTcpServer,
  type TunnelPath,
  type WsPair,
} from '../support/tunnel-harness';

function echoAsYouGo(socket: net.Socket): void {
  socket.on('data', (d: Buffer) => socket.write(d));
  socket.on('end', () => socket.end());
  socket.on('error', () => undefined);
}

async function roundTrip(client: net.Socket, text: string): Promise<void> {
  const got = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
  client.write(text);
  expect(await got).toBe(text);
}

describe('tunnel failures while bytes flow', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;
  let pair: WsPair | undefined;

  checkLeaksAfterEach(async () => {
    await path?.close();
    await target?.close();
    await pair?.close();
    path = target = pair = undefined;
  });

  it('a client reset closes the tunnel with 4410 and resets the target connection', async () => {
    // Watch the target socket from the moment it is accepted: the reset can arrive before a poll would see it.
    let targetClosed: Promise<{ errorCode?: string }> | undefined;
    target = await startTcpServer((s) => {
      targetClosed = closed(s);
      echoAsYouGo(s);
    });
    path = await startTunnelPath({ services: { echo: target.port } });
    const client = await connectTcp(path.gatewayPort);
    await roundTrip(client, 'hello');

    client.resetAndDestroy();
    const conn = await path.connection(0);
    expect(await conn.sender).toMatchObject({
      ok: false,
      error: { code: 'TUNNEL_TCP_RESET', closeCode: 4410 },
    });
    expect(await conn.listener).toMatchObject({
      ok: false,
      error: { code: 'TUNNEL_PEER_RESET', closeCode: 4410 },
    });
    expect(targetClosed).toBeDefined(); // the round trip went through the target
    expect((await targetClosed!).errorCode).toBe('ECONNRESET');
    expect(conn.listenerClose?.code).toBe(4410);
  });

  it('a target reset reaches the client as a reset', async () => {
    target = await startTcpServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.resetAndDestroy());
    });
    path = await startTunnelPath({ services: { flaky: target.port } });
    const client = await connectTcp(path.gatewayPort);
    const clientClosed = closed(client);
    client.write('boom');
    expect((await clientClosed).errorCode).toBe('ECONNRESET');
    const conn = await path.connection(0);
    expect(((await conn.listener) as TunnelOutcome).error?.code).toBe('TUNNEL_TCP_RESET');
    expect(((await conn.sender) as TunnelOutcome).error?.code).toBe('TUNNEL_PEER_RESET');
  });

  it('a WebSocket lost without a close frame resets both TCP connections', async () => {
    let targetSocket!: net.Socket;
    target = await startTcpServer((s) => {
      targetSocket = s;
      echoAsYouGo(s);
    });
    path = await startTunnelPath({ services: { echo: target.port } });
    const client = await connectTcp(path.gatewayPort);
    const clientClosed = closed(client);
    await roundTrip(client, 'hello');
    const targetClosed = closed(targetSocket);

    const conn = await path.connection(0);
    conn.listenerWs!.terminate(); // the relay connection drops: no close frame either way
    expect((await clientClosed).errorCode).toBe('ECONNRESET');
    expect((await targetClosed).errorCode).toBe('ECONNRESET');
    expect(((await conn.sender) as TunnelOutcome).error).toMatchObject({
      code: 'TUNNEL_RELAY_LOST',
      retryable: true,
    });
    expect(((await conn.listener) as TunnelOutcome).error?.code).toBe('TUNNEL_RELAY_LOST');
  });

  it('an idle tunnel is closed with 4408 on both sides', async () => {
    target = await startTcpServer(echoAsYouGo);
    path = await startTunnelPath({ services: { echo: target.port }, idleTimeoutMs: 150 });
    const client = await connectTcp(path.gatewayPort);
    await roundTrip(client, 'hello');
    await peerClosed(client);
    client.destroy();
    const conn = await path.connection(0);
    for (const outcome of [await conn.sender, await conn.listener]) {
      expect(outcome).toMatchObject({ ok: false, error: { code: 'TUNNEL_IDLE_TIMEOUT', closeCode: 4408 } });
    }
  });

  describe('on a bare ws pair', () => {
    async function openPair(): Promise<{
      gatewaySide: net.Socket;
      client: net.Socket;
      forwarderSide: net.Socket;
      service: net.Socket;
      senderPump: ReturnType<typeof pumpTunnel>;
      listenerPump: ReturnType<typeof pumpTunnel>;
    }> {
      pair = await openWsPair(halfCloseOfferHeaders());
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      const opened = openSenderTunnel(pair.sender, { portName: 'svc' });
      const request = await accepted;
      const listenerDuplex = request.confirm();
      const { duplex } = await opened;
      const [client, gatewaySide] = await tcpSocketPair();
      const [forwarderSide, service] = await tcpSocketPair();
      return {
        client,
        gatewaySide,
        forwarderSide,
        service,
        senderPump: pumpTunnel(gatewaySide, duplex),
        listenerPump: pumpTunnel(forwarderSide, listenerDuplex),
      };
    }

    it('abort() ends the tunnel with 1001 and the far side resets its TCP connection', async () => {
      const t = await openPair();
      const serviceClosed = closed(t.service);
      const clientClosed = peerClosed(t.client);
      t.client.write('abc');
      await waitFor(() => t.listenerPump.relayToTcpBytes === 3, 'bytes through the tunnel');
      t.senderPump.abort('route removed');
      expect(await t.senderPump.completion).toMatchObject({ ok: false, error: { code: 'TUNNEL_ABORTED' } });
      expect(await t.listenerPump.completion).toMatchObject({
        ok: false,
        error: { code: 'TUNNEL_REMOTE_ERROR', closeCode: 1001 },
        relayToTcpBytes: 3,
      });
      expect((await serviceClosed).errorCode).toBe('ECONNRESET');
      await clientClosed;
      t.client.destroy();
    });

    it('pumping a tunnel that already died reports why and resets the TCP connection', async () => {
      pair = await openWsPair(halfCloseOfferHeaders());
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      const opened = openSenderTunnel(pair.sender, { portName: 'svc' });
      (await accepted).confirm().on('error', () => undefined);
      const { duplex } = await opened;
      duplex.on('error', () => undefined); // stands in for a caller that attached the pump too late
      pair.listener.terminate();
      await waitFor(() => duplex.closed, 'the tunnel to die');
      const [client, gatewaySide] = await tcpSocketPair();
      const clientClosed = closed(client);
      const outcome = await pumpTunnel(gatewaySide, duplex).completion;
      expect(outcome).toMatchObject({ ok: false, error: { code: 'TUNNEL_RELAY_LOST' } });
      expect((await clientClosed).errorCode).toBe('ECONNRESET');
    });

    it('a data frame after fin is a protocol error (1002)', async () => {
      pair = await openWsPair(halfCloseOfferHeaders());
      const accepted = acceptListenerTunnel(pair.listener, pair.headers);
      pair.sender.send(Buffer.from([1, 0, 0, 1, 0x78]));
      const request = await accepted;
      expect(request.halfClose).toBe(true);
      const duplex = request.confirm();
      const failed = new Promise<Error>((resolve) => duplex.once('error', resolve));
      duplex.resume();
      const senderClosed = new Promise<number>((resolve) =>
        pair!.sender.once('close', (code) => resolve(code)),
      );
      pair.sender.send('hrf:unknown-future-control'); // ignored
      pair.sender.send(FIN_FRAME);
      pair.sender.send(Buffer.from('late'));
      expect(await failed).toMatchObject({ code: 'TUNNEL_PROTOCOL', closeCode: 1002 });
      expect(await senderClosed).toBe(1002);
    });
  });
});
