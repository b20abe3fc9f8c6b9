// A relay front end may deliver the 101 response and the peer's first frame in one read (one TLS record, one
// TCP segment). ws parses such a frame on the next tick, before an `await openRelaySocket(...)` continuation can
// attach its 'message' listener; the HC client must hold it for the caller instead of dropping it.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { openRelaySocket } from '../../modules/common/src/hc/open-socket';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One binary frame, unmasked (server to client), payload under 126 bytes. */
function serverFrame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x82, payload.length]), payload]);
}

/** A raw server that answers every upgrade with the 101 head and `first` in a single write. */
async function startCoalescingServer(first: Buffer): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      const response =
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(response, 'latin1'), serverFrame(first)]));
      socket.removeAllListeners('data');
      socket.on('data', () => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('HC client: a frame that arrives with the 101 response', () => {
  let server: net.Server;
  const first = Buffer.from([1, 0, 1]); // like a preamble reply

  beforeAll(async () => {
    server = await startCoalescingServer(first);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reaches a message listener attached after the await, for 20 connections out of 20', async () => {
    const port = (server.address() as net.AddressInfo).port;
    const received = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const ws = await openRelaySocket({
          action: 'connect',
          url: `ws://127.0.0.1:${port}/$hc/path?sb-hc-action=connect`,
          timeoutMs: 10_000,
        });
        ws.on('error', () => undefined);
        try {
          return await new Promise<Buffer | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), 5_000);
            ws.once('message', (data: Buffer) => {
              clearTimeout(timer);
              resolve(data);
            });
          });
        } finally {
          ws.terminate();
        }
      }),
    );
    expect(received.map((data) => data?.toString('hex'))).toEqual(
      Array.from({ length: 20 }, () => first.toString('hex')),
    );
  }, 30_000);
});
