// Interop with peers that do not speak half-close: azbridge (Microsoft's Azure Relay Bridge) and hyco-ws based
// tools. The azbridge side is written here by hand from its byte layout: preamble [1, 0, mode, len] + UTF-8 port
// name, reply [1, 0, mode], binary frames only, end of stream = WebSocket close.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { halfCloseOfferHeaders, openSenderTunnel, type TunnelOutcome } from '../../modules/common/src/tunnel';
import {
  checkLeaksAfterEach,
  connectTcp,
  echoUntilEof,
  peerClosed,
  readAll,
  startTcpServer,
  startTunnelPath,
  waitFor,
  type TestTcpServer,
  type TunnelPath,
} from '../support/tunnel-harness';

interface RawFrames {
  binary: Buffer[];
  text: string[];
  bytes(): Buffer;
}

function recordFrames(ws: WebSocket): RawFrames {
  const frames: RawFrames = {
    binary: [],
    text: [],
    bytes: () => Buffer.concat(frames.binary),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) frames.binary.push(data);
    else frames.text.push(data.toString());
  });
  return frames;
}

/** An azbridge-style listener: reads the preamble, then does whatever `answer` says. */
async function startRawListener(
  answer: (ws: WebSocket, frames: RawFrames, portName: string) => void,
): Promise<{
  port: number;
  frames: Promise<RawFrames>;
  headers: Promise<Record<string, unknown>>;
  close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  let onFrames!: (f: RawFrames) => void;
  let onHeaders!: (h: Record<string, unknown>) => void;
  const framesP = new Promise<RawFrames>((r) => (onFrames = r));
  const headersP = new Promise<Record<string, unknown>>((r) => (onHeaders = r));
  wss.on('connection', (ws, req) => {
    onHeaders(req.headers);
    const frames = recordFrames(ws);
    onFrames(frames);
    let answered = false;
    ws.on('message', () => {
      const bytes = frames.bytes();
      if (answered || bytes.length < 4 || bytes.length < 4 + bytes[3]) return;
      answered = true;
      answer(ws, frames, bytes.subarray(4, 4 + bytes[3]).toString('utf8'));
    });
  });
  return {
    port: (wss.address() as AddressInfo).port,
    frames: framesP,
    headers: headersP,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

describe('interop with peers without half-close (azbridge behaviour)', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;
  let rawListener: Awaited<ReturnType<typeof startRawListener>> | undefined;
  let sender: WebSocket | undefined;

  checkLeaksAfterEach(async () => {
    if (sender && sender.readyState !== WebSocket.CLOSED) {
      sender.terminate();
      await once(sender, 'close');
    }
    await rawListener?.close();
    await path?.close();
    await target?.close();
    path = target = rawListener = sender = undefined;
  });

  it('our sender without the offer: end of stream closes the WebSocket (1000) and no text frame is sent', async () => {
    let onTarget!: (received: Promise<Buffer>) => void;
    const targetReceived = new Promise<Buffer>((resolve) => (onTarget = resolve));
    target = await startTcpServer((s) => {
      onTarget(readAll(s));
      s.on('error', () => undefined);
    });
    path = await startTunnelPath({ services: { svc: target.port }, senderOffersHalfClose: false });
    const client = await connectTcp(path.gatewayPort);
    client.end('request');
    expect((await targetReceived).toString()).toBe('request'); // all bytes, then EOF
    await peerClosed(client);
    client.destroy();
    const conn = await path.connection(0);
    expect(((await conn.sender) as TunnelOutcome).ok).toBe(true);
    expect(((await conn.listener) as TunnelOutcome).ok).toBe(true);
    expect(conn.senderHalfClose).toBe(false);
    expect(conn.request?.halfClose).toBe(false);
    expect(conn.senderClose?.code).toBe(1000);
  });

  it('our listener serves a hand-written azbridge sender (preamble split byte by byte, payload in the same frame)', async () => {
    target = await startTcpServer(echoUntilEof);
    path = await startTunnelPath({ services: { echo: target.port } });
    sender = new WebSocket(`ws://127.0.0.1:${path.wsPort}/`, { perMessageDeflate: false });
    await once(sender, 'open');
    const frames = recordFrames(sender);
    const closedP = once(sender, 'close') as Promise<[number, Buffer]>;

    // azbridge writes header and name separately; we go further and split every byte into its own frame,
    // with the first payload bytes sharing the frame of the name's last byte.
    for (const byte of [1, 0, 0, 4, ...Buffer.from('ech')]) sender.send(Buffer.from([byte]));
    sender.send(Buffer.concat([Buffer.from('o'), Buffer.from('hello ')]));
    await waitFor(() => frames.bytes().length >= 3, 'the preamble reply');
    expect([...frames.bytes().subarray(0, 3)]).toEqual([1, 0, 0]);
    sender.send(Buffer.from('world'));
    // azbridge ends its direction with CloseOutputAsync(NormalClosure, "Shutdown"): a close frame.
    sender.close(1000, 'Shutdown');
    const [code] = await closedP;

    expect(code).toBe(1000);
    expect(frames.text).toEqual([]); // no half-close text frames for a peer that did not offer
    const conn = await path.connection(0);
    expect(conn.request?.portName).toBe('echo');
    expect(conn.request?.halfClose).toBe(false);
    const outcome = (await conn.listener) as TunnelOutcome;
    expect(outcome).toMatchObject({ ok: true, relayToTcpBytes: 'hello world'.length });
  });

  it('our sender works with a hand-written azbridge listener (reply split across frames, data in the reply frame)', async () => {
    rawListener = await startRawListener((ws) => {
      ws.send(Buffer.from([1]));
      ws.send(Buffer.concat([Buffer.from([0, 0]), Buffer.from('greeting;')]));
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary && data.toString() === 'ping') ws.send(Buffer.from('pong'));
      });
    });
    sender = new WebSocket(`ws://127.0.0.1:${rawListener.port}/`, {
      perMessageDeflate: false,
      headers: halfCloseOfferHeaders(), // offered, but an azbridge listener ignores the header
    });
    await once(sender, 'open');
    const tunnel = await openSenderTunnel(sender, { portName: 'svc' });
    expect(tunnel.halfClose).toBe(false);
    expect((await rawListener.headers)['x-hrf-half-close']).toBe('1');

    const received: Buffer[] = [];
    tunnel.duplex.on('data', (d: Buffer) => received.push(d));
    tunnel.duplex.write(Buffer.from('ping'));
    await waitFor(() => Buffer.concat(received).toString() === 'greeting;pong', 'greeting and pong');
    const closedP = once(sender, 'close') as Promise<[number, Buffer]>;
    tunnel.duplex.end(); // end of stream: the WebSocket closes
    const [code] = await closedP;
    expect(code).toBe(1000);

    const frames = await rawListener.frames;
    expect(frames.text).toEqual([]);
    expect([...frames.binary[0]]).toEqual([1, 0, 0, 3, ...Buffer.from('svc')]);
    await waitFor(() => tunnel.duplex.closed, 'the duplex to close');
  });

  it.each([
    [[0, 0, 0], /version 1.0/],
    [[0, 0, 1], /datagram/],
  ])('an azbridge refusal reply %j becomes TUNNEL_BAD_PREAMBLE', async (reply, message) => {
    rawListener = await startRawListener((ws) => {
      ws.send(Buffer.from(reply));
      ws.close(1000, 'Shutdown');
    });
    sender = new WebSocket(`ws://127.0.0.1:${rawListener.port}/`, { perMessageDeflate: false });
    await once(sender, 'open');
    const err = await openSenderTunnel(sender, { portName: 'svc' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TUNNEL_BAD_PREAMBLE',
      retryable: false,
      message: expect.stringMatching(message),
    });
  });

  it('an azbridge listener that closes without a reply (its unknown-port answer) becomes TUNNEL_CLOSED_EARLY', async () => {
    rawListener = await startRawListener((ws) => ws.close(1000, 'Shutdown'));
    sender = new WebSocket(`ws://127.0.0.1:${rawListener.port}/`, { perMessageDeflate: false });
    await once(sender, 'open');
    const err = await openSenderTunnel(sender, { portName: 'nope' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TUNNEL_CLOSED_EARLY', retryable: false, closeCode: 1000 });
  });

  it('without half-close, a target that closes first still delivers its bytes, then the client connection ends', async () => {
    target = await startTcpServer((s) => {
      s.on('error', () => undefined);
      s.end('bye');
    });
    path = await startTunnelPath({ services: { svc: target.port }, senderOffersHalfClose: false });
    const client = await connectTcp(path.gatewayPort);
    client.on('error', () => undefined);
    expect((await readAll(client)).toString()).toBe('bye');
    const conn = await path.connection(0);
    expect(((await conn.sender) as TunnelOutcome).ok).toBe(true);
    expect(((await conn.listener) as TunnelOutcome).ok).toBe(true);
    expect(conn.gatewaySocket?.destroyed).toBe(true);
    client.destroy();
  });
});
