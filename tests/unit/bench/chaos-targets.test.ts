// The chaos suite's byte source counts its open connections as "target connections held": a client that is gone
// must not stay counted, or a module killed between its dial and the client's first byte reads as a leak.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { sourceSha256, startSource, type ChaosTarget } from '../../../bench/chaos/targets';

const BYTES = 512 * 1024;

async function dial(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('chaos byte source', () => {
  let source: ChaosTarget;
  beforeEach(async () => {
    source = await startSource(BYTES);
  });
  afterEach(async () => {
    await source.close();
  });

  it('ends a connection whose client ended before sending a byte', async () => {
    const client = await dial(source.port);
    await until(() => source.open === 1, 'the source to count the connection');
    const ended = once(client, 'end');
    client.end();
    await ended;
    await until(() => source.open === 0, 'the source to let the connection go');
    client.destroy();
  });

  it('still sends the whole download to a client that ends its side after its first byte', async () => {
    const client = await dial(source.port);
    const hash = createHash('sha256');
    client.on('data', (chunk: Buffer) => hash.update(chunk));
    const ended = once(client, 'end');
    client.end('s');
    await ended;
    expect(hash.digest('hex')).toBe(sourceSha256(BYTES));
    client.destroy();
  });
});
