import { createHash, type Hash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { OpenConnections } from './open-connections';
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
  const open = new OpenConnections();
  let bytesHashed = 0;

  const server: Server = createServer((socket) => {
    open.add(socket);
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
      return open.size;
    },
    get bytesHashed() {
      return bytesHashed;
    },
    waitForOpenConnections: (count, timeoutMs) => open.waitFor(count, timeoutMs),
    close: () => open.closeWith(server),
  };
}
