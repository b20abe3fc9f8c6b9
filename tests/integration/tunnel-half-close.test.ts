// TCP half-close carried through the tunnel with the hrf:fin frames, in both directions.
import {
  checkLeaksAfterEach,
  closed,
  connectTcp,
  echoUntilEof,
  patternBytes,
  readAll,
  sha256,
  startTcpServer,
  startTunnelPath,
  type TestTcpServer,
  type TunnelPath,
} from '../support/tunnel-harness';
import type { TunnelOutcome } from '../../modules/common/src/tunnel';

describe('tunnel half-close', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;

  checkLeaksAfterEach(async () => {
    await path?.close();
    await target?.close();
    path = target = undefined;
  });

  it('client shuts down its write side and still reads the whole response from an echo-until-EOF server', async () => {
    target = await startTcpServer(echoUntilEof);
    path = await startTunnelPath({ services: { echo: target.port } });
    const request = patternBytes(3 * 1024 * 1024 + 17, 7);

    const client = await connectTcp(path.gatewayPort);
    const response = readAll(client);
    client.end(request); // FIN after the request: the server answers only once it sees EOF

    const body = await response;
    expect(body.length).toBe(request.length);
    expect(sha256(body)).toBe(sha256(request));
    await closed(client);

    const conn = path.connections[0];
    expect(conn.senderHalfClose).toBe(true);
    expect(conn.request?.halfClose).toBe(true);
    const outcomes = [(await conn.sender) as TunnelOutcome, (await conn.listener) as TunnelOutcome];
    for (const outcome of outcomes) expect(outcome.ok).toBe(true);
  });

  it('target ends its write side first and still receives everything the client sends afterwards', async () => {
    let onTarget!: (received: Promise<Buffer>) => void;
    const targetReceived = new Promise<Buffer>((resolve) => (onTarget = resolve));
    target = await startTcpServer((socket) => {
      onTarget(readAll(socket));
      socket.end('greeting, now send me your data\n'); // server speaks first, then half-closes
    });
    path = await startTunnelPath({ services: { upload: target.port } });

    const client = await connectTcp(path.gatewayPort);
    const greeting = await readAll(client); // EOF from the server arrives while our write side stays open
    expect(greeting.toString()).toBe('greeting, now send me your data\n');
    const upload = patternBytes(2 * 1024 * 1024, 9);
    client.end(upload);

    const received = await targetReceived;
    expect(sha256(received)).toBe(sha256(upload));
    await closed(client);
    const conn = path.connections[0];
    expect(((await conn.sender) as TunnelOutcome).ok).toBe(true);
    expect(((await conn.listener) as TunnelOutcome).ok).toBe(true);
  });

  it('carries a FIN that arrived before the tunnel was open (client half-closes without sending a byte)', async () => {
    let onTarget!: (received: Promise<Buffer>) => void;
    const targetReceived = new Promise<Buffer>((resolve) => (onTarget = resolve));
    target = await startTcpServer((socket) => {
      onTarget(readAll(socket));
      socket.on('end', () => socket.end('nothing to echo'));
    });
    path = await startTunnelPath({ services: { echo: target.port } });
    const client = await connectTcp(path.gatewayPort);
    const response = readAll(client);
    client.end(); // before the preamble exchange has finished
    expect((await targetReceived).length).toBe(0);
    expect((await response).toString()).toBe('nothing to echo');
    const conn = await path.connection(0);
    expect(((await conn.sender) as TunnelOutcome).ok).toBe(true);
    expect(((await conn.listener) as TunnelOutcome).ok).toBe(true);
  });

  it('closes the WebSocket with 1000 only after both directions ended', async () => {
    target = await startTcpServer(echoUntilEof);
    path = await startTunnelPath({ services: { echo: target.port } });
    const client = await connectTcp(path.gatewayPort);
    const response = readAll(client);
    client.end('ping');
    expect((await response).toString()).toBe('ping');
    const conn = path.connections[0];
    await conn.sender;
    await conn.listener;
    expect(conn.senderClose?.code).toBe(1000);
    expect(conn.listenerClose?.code).toBe(1000);
  });
});
