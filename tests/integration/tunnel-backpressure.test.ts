// Slow readers: while one end stops reading and the other keeps producing, every buffer the tunnel owns stays
// small (the producer is held back by TCP flow control instead), and every byte arrives once reading resumes.
import { createHash } from 'node:crypto';
import type * as net from 'node:net';
import {
  checkLeaksAfterEach,
  connectTcp,
  patternBytes,
  startTcpServer,
  startTunnelPath,
  waitFor,
  type PathConnection,
  type TestTcpServer,
  type TunnelPath,
} from '../support/tunnel-harness';
import type { TunnelOutcome } from '../../modules/common/src/tunnel';

const TOTAL = 256 * 1024 * 1024; // far more than every kernel and tunnel buffer on the way can hold
const BLOCK = patternBytes(1024 * 1024, 3);
// Per buffer we own: a 64 KiB high-water mark plus a chunk or two in flight; 1 MiB is a generous ceiling
// that still proves nothing grows with the amount the producer is ahead.
const BOUND_BYTES = 1024 * 1024;

/** Writes TOTAL bytes (BLOCK repeated) honouring backpressure; counts what the socket accepted. */
function produce(socket: net.Socket): { accepted: () => number; done: Promise<void>; hash: () => string } {
  const hash = createHash('sha256');
  let accepted = 0;
  let digest = '';
  const done = new Promise<void>((resolve) => {
    const pump = (): void => {
      while (accepted < TOTAL) {
        accepted += BLOCK.length;
        hash.update(BLOCK);
        if (!socket.write(BLOCK)) {
          socket.once('drain', pump);
          return;
        }
      }
      digest = hash.digest('hex');
      socket.end(resolve);
    };
    pump();
  });
  return { accepted: () => accepted, done, hash: () => digest };
}

/** Reads to EOF, hashing. */
function consume(socket: net.Socket): Promise<{ bytes: number; hash: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    socket.once('end', () => resolve({ bytes, hash: hash.digest('hex') }));
    socket.once('error', reject);
    socket.resume(); // a 'data' listener alone does not restart an explicitly paused socket
  });
}

/** Waits until `progress()` has not moved for `quietMs` (the producer is stalled by backpressure). */
async function stalled(progress: () => number, quietMs = 300): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(
    () => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    'the producer to stall',
    20_000,
  );
}

function tunnelBuffers(conn: PathConnection) {
  const gatewaySocket = conn.gatewaySocket!;
  const forwarderSocket = conn.forwarderSocket!;
  return {
    gatewaySocketRead: gatewaySocket.readableLength,
    gatewaySocketWrite: gatewaySocket.writableLength,
    senderDuplexRead: conn.senderDuplex!.readableLength,
    senderDuplexWrite: conn.senderDuplex!.writableLength,
    senderWsBuffered: conn.senderDuplex!.relayBufferedBytes,
    listenerDuplexRead: conn.listenerDuplex!.readableLength,
    listenerDuplexWrite: conn.listenerDuplex!.writableLength,
    listenerWsBuffered: conn.listenerDuplex!.relayBufferedBytes,
    forwarderSocketRead: forwarderSocket.readableLength,
    forwarderSocketWrite: forwarderSocket.writableLength,
  };
}

describe('tunnel backpressure', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;

  checkLeaksAfterEach(async () => {
    await path?.close();
    await target?.close();
    path = target = undefined;
  });

  async function setUp(onTarget: (socket: net.Socket) => void) {
    target = await startTcpServer(onTarget);
    path = await startTunnelPath({ services: { svc: target.port } });
    const client = await connectTcp(path.gatewayPort);
    const conn = await path.connection(0);
    await waitFor(() => conn.senderDuplex !== undefined && conn.listenerDuplex !== undefined, 'tunnel open');
    return { client, conn };
  }

  it('a slow target keeps gateway and forwarder buffers bounded while the client is far ahead', async () => {
    let targetSocket!: net.Socket;
    const { client, conn } = await setUp((s) => {
      targetSocket = s;
      s.pause(); // the slow reader: reads nothing until told
    });
    const producer = produce(client);
    await waitFor(() => targetSocket !== undefined, 'target connection');
    await stalled(producer.accepted);

    expect(producer.accepted()).toBeLessThan(TOTAL / 2);
    const buffers = tunnelBuffers(conn);
    for (const [name, bytes] of Object.entries(buffers)) {
      expect({ name, bytes, ok: bytes <= BOUND_BYTES }).toEqual({ name, bytes, ok: true });
    }

    const received = consume(targetSocket); // resume reading: everything must arrive
    await producer.done;
    const { bytes, hash } = await received;
    targetSocket.end(); // the other direction ends too, so the tunnel completes
    expect(bytes).toBe(TOTAL);
    expect(hash).toBe(producer.hash());
    expect(((await conn.sender) as TunnelOutcome).tcpToRelayBytes).toBe(TOTAL);
    client.destroy();
  });

  it('a slow client keeps buffers bounded while the target is far ahead', async () => {
    let producer!: ReturnType<typeof produce>;
    const { client, conn } = await setUp((s) => {
      producer = produce(s);
      s.resume();
    });
    client.pause(); // the slow reader
    await waitFor(() => producer !== undefined, 'target connection');
    await stalled(producer.accepted);

    expect(producer.accepted()).toBeLessThan(TOTAL / 2);
    const buffers = tunnelBuffers(conn);
    for (const [name, bytes] of Object.entries(buffers)) {
      expect({ name, bytes, ok: bytes <= BOUND_BYTES }).toEqual({ name, bytes, ok: true });
    }

    const received = consume(client);
    client.end();
    await producer.done;
    const { bytes, hash } = await received;
    expect(bytes).toBe(TOTAL);
    expect(hash).toBe(producer.hash());
    expect(((await conn.listener) as TunnelOutcome).tcpToRelayBytes).toBe(TOTAL);
    client.destroy();
  });
});
