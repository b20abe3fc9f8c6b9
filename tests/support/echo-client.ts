// A loopback client of an echo service behind a gateway port: what the fleet tests send through a location.
import * as net from 'node:net';

/** Sends `payload` through the echo behind `port`, half-closes, and returns everything that came back. */
export function echoThrough(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolveEcho, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('echo timed out')));
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      resolveEcho(Buffer.concat(chunks));
    });
  });
}
