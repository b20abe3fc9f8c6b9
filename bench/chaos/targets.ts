// The on-prem side of the fault suite: an echo, a sha256 sink and a byte source, each counting its open
// connections (the "target connections" a fault must not leave held). They run in the suite's own process.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/** A target on a loopback port. */
export interface ChaosTarget {
  readonly port: number;
  /** Connections open right now. */
  readonly open: number;
  /** The open connections (diagnostics of a held one). */
  readonly sockets: readonly Socket[];
  /** Stops listening and drops every connection (target down). */
  close(): Promise<void>;
  /** Listens again on the same port (target up). */
  reopen(): Promise<void>;
}

/** A deterministic byte pattern (xorshift), the same for a given seed, never held whole by the source. */
export function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function startTarget(handle: (socket: Socket) => void, port = 0): Promise<ChaosTarget> {
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = async (p: number): Promise<number> => {
    // Half-open allowed: a client that ends its side still gets the whole answer (download, sink hash).
    server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
    return (server.address() as { port: number }).port;
  };
  const bound = await listen(port);
  return {
    port: bound,
    get open() {
      return sockets.size;
    },
    get sockets() {
      return [...sockets];
    },
    async close() {
      // A target that goes down resets its connections (a crashed service or host), it does not end them.
      for (const socket of sockets) socket.resetAndDestroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async reopen() {
      await listen(bound);
    },
  };
}

/** Echoes every byte; ends when the client ends. */
export function startEcho(): Promise<ChaosTarget> {
  return startTarget((socket) => socket.pipe(socket));
}

/** Hashes what it receives; at the client's FIN answers the sha256 hex and ends. */
export function startSink(): Promise<ChaosTarget> {
  return startTarget((socket) => {
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => hash.update(chunk));
    socket.on('end', () => socket.end(hash.digest('hex')));
  });
}

/**
 * Sends `bytes` of pattern(seed = first byte the client sends) then ends: a download of a known size. A client that
 * ends before sending a byte is ended at once.
 */
export function startSource(bytes: number): Promise<ChaosTarget> {
  const block = pattern(256 * 1024, 11);
  return startTarget((socket) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const chunk = block.subarray(0, Math.min(block.length, bytes - sent));
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('data', pump);
    // A client gone before its first byte (a module killed between the dial and the client's data) gets nothing:
    // end, or the half-open socket would stay in CLOSE_WAIT for good and read as a held target connection.
    socket.once('end', () => {
      if (socket.bytesRead === 0) socket.end();
    });
  });
}

/** sha256 of what {@link startSource} sends for `bytes`. */
export function sourceSha256(bytes: number): string {
  const block = pattern(256 * 1024, 11);
  const hash = createHash('sha256');
  for (let sent = 0; sent < bytes; sent += block.length)
    hash.update(block.subarray(0, Math.min(block.length, bytes - sent)));
  return hash.digest('hex');
}
