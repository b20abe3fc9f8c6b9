// A TCP link in front of the IoT Hub stand-in that a test or a chaos case cuts and restores: a network partition
// between the modules and the hub (as with IoT Edge's GatewayHostName, the modules reach the hub through it).
import * as net from 'node:net';

/** A TCP relay in front of the hub that a test can cut and restore: a network partition between module and hub. */
export interface HubLink {
  readonly port: number;
  /** Drops every connection through the link and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Listens on an ephemeral loopback port and forwards each connection to `hubPort()` (read per connection). */
export async function startLink(hubPort: () => number): Promise<HubLink> {
  const pairs = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ port: hubPort(), host: '127.0.0.1' });
    pairs.add(client);
    pairs.add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.once('close', () => {
        pairs.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true;
      for (const s of pairs) s.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      down = true;
      for (const s of pairs) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
