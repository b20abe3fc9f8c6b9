// Datagram (UDP) interop with azbridge, whose side is written here by hand from its source (UdpLocalForwardBridge,
// UdpRemoteForwarder): preamble [1, 0, 1, len] + port name (two writes), reply [1, 0, 1], then each datagram as
// a 2-byte big-endian length and its payload, read back as a byte stream. Our forwarder behind the sandbox relay
// plays the remote forwarder; our sender library plays the local forwarder against a hand-written listener.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { DatagramChannel } from '../../modules/common/src/tunnel/datagram-channel';
import { PreambleMode } from '../../modules/common/src/tunnel/preamble';
import { openSenderTunnel } from '../../modules/common/src/tunnel/sender-tunnel';
import type { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import {
  openRawSender,
  startForwarderWorld,
  waitOnline,
  type ForwarderWorld,
} from '../support/relay-forwarder-harness';
import { gameRequest, sha256, startGameServer, type UdpServer } from '../support/udp-targets';
import { eventually } from '../support/relay-gateway-harness';

/** azbridge's framing of one datagram, written from its source: `[len / 256, len % 256] + payload`. */
function azbridgeFrame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([Math.floor(payload.length / 256), payload.length % 256]), payload]);
}

/** Reads azbridge-framed datagrams out of a byte stream. */
function unframe(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const length = bytes[offset] * 256 + bytes[offset + 1];
    if (offset + 2 + length > bytes.length) break;
    out.push(bytes.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return out;
}

describe('azbridge datagram mode, sender written by hand → our forwarder', () => {
  let world: ForwarderWorld;
  let forwarder: Forwarder;
  let game: UdpServer & { portsByClient: Map<number, Set<number>> };

  beforeAll(async () => {
    world = await startForwarderWorld(['site-a']);
    game = await startGameServer();
    forwarder = world.startForwarder();
    const applied = forwarder.applyDocument({
      schemaVersion: 1,
      hybridConnections: {
        siteA: {
          connectionString: world.hc('site-a').listenConnectionString,
          services: {
            game: { target: `127.0.0.1:${game.port}`, protocol: 'udp' },
            tcp: { target: `127.0.0.1:${world.echo.port}` },
          },
        },
      },
    });
    expect(applied.ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
  });

  afterAll(async () => {
    await world.close();
    await game.close();
  });

  it('replies [1, 0, 1] and carries datagrams framed as azbridge frames them, in any message split', async () => {
    const sender = await openRawSender(world, 'site-a');
    const messages: Buffer[] = [];
    sender.ws.on('message', (data: Buffer, isBinary: boolean) => isBinary && messages.push(data));
    // Two writes, as UdpLocalForwardBridge does: header with the name's length, then the name.
    sender.ws.send(Buffer.from([1, 0, 1, 4]));
    sender.ws.send(Buffer.from('game'));
    expect([...(await sender.waitForBytes(3))]).toEqual([1, 0, 1]);
    const payloads = [Buffer.from('first'), Buffer.alloc(3000, 7), Buffer.from('third'), Buffer.alloc(1, 9)];
    const requests = payloads.map((p, seq) => azbridgeFrame(gameRequest(1, seq, p)));
    sender.ws.send(requests[0]); // one datagram per message (azbridge's own writes)
    sender.ws.send(Buffer.concat([requests[1], requests[2]]).subarray(0, 1000)); // a datagram split over messages …
    sender.ws.send(Buffer.concat([requests[1], requests[2]]).subarray(1000)); // … and two sharing one
    sender.ws.send(requests[3]);
    const replyBytes = (): number => 3 + payloads.reduce((total, p) => total + 2 + 6 + 32 + p.length, 0);
    const received = await sender.waitForBytes(replyBytes());
    const replies = unframe(received.subarray(3));
    expect(replies).toHaveLength(payloads.length);
    for (const reply of replies) {
      const seq = reply.readUInt32BE(2);
      expect(reply.subarray(6, 38).equals(sha256(payloads[seq]))).toBe(true);
    }
    // azbridge offered no batching: no text frame, and every answer is a message of its own (its reader needs that).
    expect(sender.texts).toEqual([]);
    expect(messages.slice(1).map((m) => unframe(m).length)).toEqual(payloads.map(() => 1));
    sender.ws.close(1000);
    expect((await sender.closed).code).toBe(1000);
    await eventually(
      () => forwarder.state().hybridConnections.siteA!.services.game!.active === 0,
      'flow closed',
    );
  });

  it('agrees to batching only when offered (x-hrf-datagram-batch), with its frame before the reply', async () => {
    const sender = await openRawSender(world, 'site-a', { 'x-hrf-datagram-batch': '1' });
    const order: string[] = [];
    sender.ws.on('message', (data: Buffer, isBinary: boolean) =>
      order.push(isBinary ? data.toString('hex') : data.toString()),
    );
    sender.ws.send(Buffer.concat([Buffer.from([1, 0, 1, 4]), Buffer.from('game')]));
    await sender.waitForBytes(3);
    expect(order).toEqual(['hrf:datagram-batch:1', '010001']);
    sender.ws.close(1000);
    await sender.closed;
  });

  it('refuses a stream preamble to a udp service, and a datagram preamble to a tcp one, with 4400 and why', async () => {
    const toUdp = await openRawSender(world, 'site-a');
    toUdp.ws.send(Buffer.concat([Buffer.from([1, 0, 0, 4]), Buffer.from('game')]));
    expect(await toUdp.closed).toEqual({ code: 4400, reason: 'service is udp: datagram mode expected' });
    const toTcp = await openRawSender(world, 'site-a');
    toTcp.ws.send(Buffer.concat([Buffer.from([1, 0, 1, 3]), Buffer.from('tcp')]));
    expect(await toTcp.closed).toEqual({ code: 4400, reason: 'service is tcp: stream mode expected' });
  });
});

describe('our datagram sender → a listener written by hand as azbridge', () => {
  let wss: WebSocketServer;
  let url: string;
  let reply: Buffer;
  let seen: Buffer[];

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      let bytes = Buffer.alloc(0);
      let answered = false;
      ws.on('message', (data: Buffer) => {
        bytes = Buffer.concat([bytes, data]);
        if (!answered) {
          if (bytes.length < 4 || bytes.length < 4 + bytes[3]) return;
          seen.push(bytes.subarray(0, 4 + bytes[3]));
          bytes = bytes.subarray(4 + bytes[3]);
          answered = true;
          ws.send(reply);
          if (reply[0] !== 1) ws.close(1000);
        }
        // UdpRemoteForwarder's echo of every datagram, all in one message to show the reader is a stream reader.
        const datagrams = unframe(bytes);
        if (datagrams.length === 0) return;
        bytes = Buffer.alloc(0);
        ws.send(Buffer.concat(datagrams.map((d) => azbridgeFrame(Buffer.from(d).reverse()))));
      });
    });
  });

  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
  });

  it('sends [1, 0, 1, len] + name, reads [1, 0, 1], frames each datagram and decodes the echo', async () => {
    reply = Buffer.from([1, 0, 1]);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await once(ws, 'open');
    const tunnel = await openSenderTunnel(ws, { portName: 'dns', mode: PreambleMode.DATAGRAM });
    expect([...seen[0]!]).toEqual([1, 0, 1, 3, 0x64, 0x6e, 0x73]);
    expect(tunnel.halfClose).toBe(false);
    const got: Buffer[] = [];
    const channel = new DatagramChannel(tunnel.duplex, { onDatagram: (p) => got.push(Buffer.from(p)) });
    const sent = [Buffer.from('query-1'), Buffer.alloc(65_507, 5), Buffer.alloc(0)];
    for (const payload of sent) expect(channel.send(payload)).toBeUndefined();
    await eventually(() => got.length === sent.length, 'the echoes', 10_000);
    got.forEach((payload, i) =>
      expect(sha256(payload).equals(sha256(Buffer.from(sent[i]!).reverse()))).toBe(true),
    );
    channel.close();
    expect((await channel.ended).ok).toBe(true);
  });

  it.each([
    [[0, 0, 255], /stream mode/],
    [[1, 0, 0], /unexpected preamble reply \[1, 0, 0\]/],
  ])('turns the refusal reply %j into TUNNEL_BAD_PREAMBLE', async (bytes, message) => {
    reply = Buffer.from(bytes);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await once(ws, 'open');
    await expect(
      openSenderTunnel(ws, { portName: 'dns', mode: PreambleMode.DATAGRAM }),
    ).rejects.toMatchObject({
      code: 'TUNNEL_BAD_PREAMBLE',
      message: expect.stringMatching(message),
    });
  });
});
