import { createHash, type Hash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { REQUEST_HEADER_BYTES } from './protocol';

/** The local TCP service every variant reaches: hashes each request and answers with the digest. */
export interface BenchTarget {
  readonly host: string;
  readonly port: number;
  /** Connections open right now. */
  readonly openConnections: number;
  /** Payload bytes hashed since start. */
  readonly bytesHashed: number;
  /** Resolves once `openConnections` equals `count`, false if that did not happen within `timeoutMs`. */
  waitForOpenConnections(count: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts the target on 127.0.0.1 (ephemeral port). Protocol: see protocol.ts. */
export async function startBenchTarget(): Promise<BenchTarget> {
  const sockets = new Set<Socket>();
  let bytesHashed = 0;
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const current = waiters;
    waiters = [];
    for (const w of current) w();
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    wake();
    socket.setNoDelay(true);
    let header = Buffer.alloc(0);
    let remaining = -1; // -1: reading a header
    let hash: Hash | undefined;
    const answer = (): void => {
      socket.write(hash!.digest());
      hash = undefined;
      remaining = -1;
    };
    socket.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length || remaining === 0) {
        if (remaining === -1) {
          const need = REQUEST_HEADER_BYTES - header.length;
          header = Buffer.concat([header, chunk.subarray(offset, offset + need)]);
          offset += Math.min(need, chunk.length - offset);
          if (header.length < REQUEST_HEADER_BYTES) return;
          remaining = Number(header.readBigUInt64BE());
          header = Buffer.alloc(0);
          hash = createHash('sha256');
          continue;
        }
        if (remaining === 0) {
          answer();
          continue;
        }
        const take = Math.min(remaining, chunk.length - offset);
        hash!.update(chunk.subarray(offset, offset + take));
        bytesHashed += take;
        remaining -= take;
        offset += take;
      }
    });
    // Errors (resets from aborted tunnels) end the connection; 'close' does the bookkeeping.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      wake();
    });
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', 511, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    get openConnections() {
      return sockets.size;
    },
    get bytesHashed() {
      return bytesHashed;
    },
    async waitForOpenConnections(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (sockets.size !== count) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(left, 100));
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
          waiters.push(done);
        });
      }
      return true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      wake();
    },
  };
}
