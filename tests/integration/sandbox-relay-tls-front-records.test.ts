// A TLS front must keep the relay core's upgrade answer apart from the bytes that follow it. The core's writes
// reach the front through a local socket, where two writes can arrive as one read (the front is busy, the core is
// not); the in-process relay would have sent them as two TLS records. Here the core writes the 101 and the first
// WebSocket frame in one write, the join a busy front sees, and the client must still get the frame although it
// attaches its 'message' listener only after 'open', as our HC listener does with its rendezvous socket.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { createLogger } from '../../modules/common/src/log';
import { startTlsFronts, type TlsFronts } from '../../sandbox/src/relay/tls-front/fronts';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { openWs, terminateAll } from '../support/sandbox-relay-raw-clients';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A core that answers each upgrade with the 101 head and one binary frame in a single write. */
function answerWithFrameJoined(socket: Socket, payload: (path: string) => Buffer): void {
  let request = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    request = Buffer.concat([request, chunk]);
    const end = request.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    const head = request.subarray(0, end).toString('latin1');
    const path = head.split(' ')[1] ?? '';
    const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    const body = payload(path);
    socket.write(
      Buffer.concat([
        Buffer.from(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ),
        Buffer.from([0x82, body.length]),
        body,
      ]),
    );
  };
  socket.on('data', onData);
}

describe('sandbox relay TLS front: the upgrade answer is a record of its own', () => {
  let pki: SandboxPki;
  let fronts: TlsFronts | undefined;
  const cores = new Set<Socket>();
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    pki = await generateSandboxPki();
    fronts = await startTlsFronts({
      count: 1,
      port: 0,
      pki,
      logger: createLogger('tls-front-test', 'silent'),
      onConnection: (socket) => {
        cores.add(socket);
        socket.once('close', () => cores.delete(socket));
        answerWithFrameJoined(socket, (path) => Buffer.from(`first frame for ${path}`));
      },
    });
  }, 60_000);

  afterAll(async () => {
    terminateAll(clients);
    for (const socket of cores) socket.destroy();
    await fronts?.close();
  });

  it('delivers a frame the core wrote together with the 101 to a client that listens after open', async () => {
    const paths = Array.from({ length: 20 }, (_, i) => `/c${i}`);
    const firstFrames = await Promise.all(
      paths.map(async (path) => {
        const ws = await openWs(`wss://127.0.0.1:${fronts!.port}${path}`, { ca: pki.caPem });
        clients.push(ws);
        // Listening only now, after 'open' has been awaited: the frame must not have been parsed already.
        return new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('(no frame within 10 s)'), 10_000);
          ws.once('message', (data: Buffer) => {
            clearTimeout(timer);
            resolve(data.toString());
          });
        });
      }),
    );
    expect(firstFrames).toEqual(paths.map((path) => `first frame for ${path}`));
  }, 60_000);
});
