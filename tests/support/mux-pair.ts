// A real ws server/client pair on loopback stands in for one relay connection: the client end runs the gateway's
// (opener's) mux session, the server end the forwarder's (acceptor's). Used by the mux unit tests.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { startMuxAcceptor, startMuxOpener } from '../../modules/common/src/mux/handshake';
import type { MuxSession } from '../../modules/common/src/mux/session';

/** Both ends of one mux connection plus the raw sockets. */
export interface MuxPair {
  readonly opener: MuxSession;
  readonly acceptor: MuxSession;
  readonly clientWs: WebSocket;
  readonly serverWs: WebSocket;
  close(): Promise<void>;
}

/** A ws server on 127.0.0.1:0 whose connections go to `onConnection`; `close()` terminates them all. */
export async function startWsServer(
  onConnection: (ws: WebSocket) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', onConnection);
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Opens a mux connection over a loopback ws pair; the acceptor serves at most `acceptorMaxStreams`. */
export async function openMuxPair(
  options: { acceptorMaxStreams?: number; openerMaxStreams?: number; pingIntervalMs?: number } = {},
): Promise<MuxPair> {
  let resolveAcceptor!: (value: { session: MuxSession; ws: WebSocket }) => void;
  const acceptorReady = new Promise<{ session: MuxSession; ws: WebSocket }>((r) => (resolveAcceptor = r));
  const server = await startWsServer((ws) =>
    resolveAcceptor({ session: startMuxAcceptor(ws, options.acceptorMaxStreams ?? 1024), ws }),
  );
  const clientWs = new WebSocket(server.url, { perMessageDeflate: false });
  // Listen before 'open': the accept frame may come in the same read as the upgrade response.
  const opener = await startMuxOpener(clientWs, {
    maxStreams: options.openerMaxStreams ?? 1024,
    ...(options.pingIntervalMs !== undefined && { pingIntervalMs: options.pingIntervalMs }),
  });
  const { session: acceptor, ws: serverWs } = await acceptorReady;
  return {
    opener,
    acceptor,
    clientWs,
    serverWs,
    async close() {
      clientWs.terminate();
      await server.close();
    },
  };
}

/** Reads a stream to its end; resolves with everything (rejects on error). */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Writes `data` to a stream in pieces of `pieceBytes` under backpressure, then ends it. */
export async function writeAll(stream: Duplex, data: Buffer, pieceBytes = 60_000): Promise<void> {
  for (let offset = 0; offset < data.length; offset += pieceBytes) {
    if (!stream.write(data.subarray(offset, offset + pieceBytes))) await once(stream, 'drain');
  }
  stream.end();
}

/** The error a stream is destroyed with (or undefined when it closes without one). */
export function errorOf(stream: Duplex): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    stream.once('error', (err) => (error = err));
    stream.once('close', () => resolve(error));
  });
}
