import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** Byte of each client→server stream whose lowest bit the proxy flips (inside any bulk body: header is 8 bytes). */
export const CORRUPT_BYTE_OFFSET = 4096;

/** A loopback TCP proxy that damages one bit per connection; exists to prove the bench's SHA-256 check fires. */
export interface CorruptingProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a proxy on an ephemeral port in front of 127.0.0.1:`upstreamPort`. */
export async function startCorruptingProxy(upstreamPort: number): Promise<CorruptingProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    track(client);
    track(upstream);
    let seen = 0;
    client.on('data', (chunk: Buffer) => {
      const at = CORRUPT_BYTE_OFFSET - seen;
      seen += chunk.length;
      if (at >= 0 && at < chunk.length) {
        // Copy: the chunk may be a view the client still owns.
        chunk = Buffer.from(chunk);
        chunk[at] ^= 1;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
