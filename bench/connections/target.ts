import { createHash, type Hash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { OpenConnections } from '../target/open-connections';

/**
 * The target of the connection workloads; the first byte a client sends picks what it does, so one route (and one
 * forwarder service) carries every workload, as one route of a real site carries many kinds of clients:
 * - `G` (an HTTP/1.0 `GET`): reads up to the blank line, answers {@link HTTP_RESPONSE} and closes;
 * - `E`: echoes every later byte (interactive round trips, held idle connections);
 * - `S`: hashes every later byte until the client half-closes, then answers the 32-byte SHA-256 and closes.
 */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  /** Connections open right now. */
  openConnections(): Promise<number>;
  /** Resolves true once `openConnections` equals `count`, false after `timeoutMs`. */
  waitForOpenConnections(count: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Body bytes of the HTTP answer (the "~1 KiB"). */
export const HTTP_BODY_BYTES = 1024;

/** The complete answer to every `GET`: an HTTP/1.0 header and a deterministic 1 KiB body; the target closes after it. */
export const HTTP_RESPONSE: Buffer = Buffer.concat([
  Buffer.from(
    `HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${HTTP_BODY_BYTES}\r\n` +
      'Connection: close\r\n\r\n',
  ),
  Buffer.from(Array.from({ length: HTTP_BODY_BYTES }, (_, i) => (i * 7 + 13) & 0xff)),
]);

/** A ~100-byte HTTP/1.0 request, as a small client sends one per connection. */
export const HTTP_REQUEST: Buffer = Buffer.from(
  'GET /items/42 HTTP/1.0\r\nHost: bench.internal\r\nUser-Agent: hrf-bench/1\r\nAccept: */*\r\n\r\n',
);

const END_OF_HEADER = Buffer.from('\r\n\r\n');
/** A request header larger than this is refused (closed): the target serves the bench, not the world. */
const MAX_HEADER_BYTES = 8192;

function serveHttp(socket: Socket, first: Buffer): void {
  let head = first;
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    check();
  };
  const check = (): void => {
    if (head.includes(END_OF_HEADER)) {
      socket.off('data', onData);
      socket.end(HTTP_RESPONSE);
    } else if (head.length > MAX_HEADER_BYTES) socket.destroy();
  };
  socket.on('data', onData);
  check();
}

function serveSink(socket: Socket, first: Buffer): void {
  const hash: Hash = createHash('sha256');
  hash.update(first);
  socket.on('data', (chunk: Buffer) => hash.update(chunk));
  socket.once('end', () => socket.end(hash.digest()));
}

function serveEcho(socket: Socket, first: Buffer): void {
  if (first.length > 0) socket.write(first);
  socket.pipe(socket);
}

/** Starts the target on 127.0.0.1 (ephemeral port) in this thread; see target-thread.ts for the usual way. */
export async function startConnectionTarget(): Promise<ConnectionTarget> {
  const open = new OpenConnections();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    let started = false;
    socket.once('data', (chunk: Buffer) => {
      started = true;
      const rest = chunk.subarray(1);
      const kind = String.fromCharCode(chunk[0]!);
      if (kind === 'G') serveHttp(socket, chunk);
      else if (kind === 'E') serveEcho(socket, rest);
      else if (kind === 'S') serveSink(socket, rest);
      else socket.destroy();
    });
    // A client that half-closes before its first byte gets nothing back.
    socket.once('end', () => {
      if (!started) socket.end();
    });
  });
  server.maxConnections = 1_000_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', 4096, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    openConnections: () => Promise.resolve(open.size),
    waitForOpenConnections: (count, timeoutMs) => open.waitFor(count, timeoutMs),
    close: () => open.closeWith(server),
  };
}
