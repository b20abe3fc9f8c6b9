import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import {
  closed,
  hcUrl,
  openWs,
  RawListener,
  terminateAll,
  tokenFor,
  waitUntil,
} from '../support/sandbox-relay-raw-clients';

describe('sandbox relay: frames through a tunnel over TLS', () => {
  let relay: SandboxRelay;
  let listener: RawListener;
  const sockets: Array<WebSocket | undefined> = [];

  /** Opens a tunnel; returns [sender, listener-side rendezvous socket]. */
  const tunnel = async (): Promise<[WebSocket, WebSocket]> => {
    const root = relay.rootKeys;
    const senderP = openWs(hcUrl(relay, 'hc1', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: tokenFor(relay, 'hc1', root.keyName, root.primaryKey) },
    });
    const rendezvous = await openWs((await listener.nextAccept()).accept.address, { ca: relay.caPem });
    const sender = await senderP;
    sockets.push(sender, rendezvous);
    return [sender, rendezvous];
  };

  beforeAll(async () => {
    relay = await startSandboxRelay({ hybridConnections: ['hc1'] });
    const root = relay.rootKeys;
    listener = await RawListener.open(relay, 'hc1', tokenFor(relay, 'hc1', root.keyName, root.primaryKey));
  });

  afterEach(() => terminateAll(sockets.splice(0)));

  afterAll(async () => {
    await listener.close();
    await relay.stop();
  });

  it('carries binary and text frames both ways, in order, every byte (sha256)', async () => {
    const [sender, rendezvous] = await tunnel();
    const collect = (ws: WebSocket, expectedBytes: number) =>
      new Promise<{ hash: string; text: string[]; binaryFrames: number }>((resolve) => {
        const hash = createHash('sha256');
        const text: string[] = [];
        let bytes = 0;
        let binaryFrames = 0;
        ws.on('message', (data: Buffer, isBinary) => {
          if (!isBinary) return void text.push(data.toString());
          binaryFrames++;
          hash.update(data);
          bytes += data.length;
          if (bytes === expectedBytes) resolve({ hash: hash.digest('hex'), text, binaryFrames });
        });
      });
    const send = (ws: WebSocket, chunks: Buffer[]) => {
      ws.send('first text');
      for (const chunk of chunks) ws.send(chunk);
      ws.send('ünïcödé text');
    };
    const sizes = [1, 10, 1000, 65_536, 1_000_000, 3_000_000, 17];
    const up = sizes.map((n) => randomBytes(n));
    const down = [...sizes].reverse().map((n) => randomBytes(n));
    const total = sizes.reduce((a, b) => a + b, 0);
    const atListener = collect(rendezvous, total);
    const atSender = collect(sender, total);
    send(sender, up);
    send(rendezvous, down);
    const [l, s] = await Promise.all([atListener, atSender]);
    const sha = (chunks: Buffer[]) => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    expect(l.hash).toBe(sha(up));
    expect(s.hash).toBe(sha(down));
    expect(l.binaryFrames).toBe(sizes.length);
    // The last text frame follows the last binary one, so wait for it before comparing.
    await waitUntil(() => l.text.length === 2 && s.text.length === 2, 'the trailing text frames arrive');
    expect(l.text).toEqual(['first text', 'ünïcödé text']);
    expect(s.text).toEqual(['first text', 'ünïcödé text']);
  });

  it('forwards the close code and reason from the sender to the listener', async () => {
    const [sender, rendezvous] = await tunnel();
    const atListener = closed(rendezvous);
    sender.close(4001, 'sender says bye');
    expect(await atListener).toEqual({ code: 4001, reason: 'sender says bye' });
  });

  it('forwards the close code and reason from the listener to the sender', async () => {
    const [sender, rendezvous] = await tunnel();
    const atSender = closed(sender);
    rendezvous.close(1000, 'done');
    expect(await atSender).toEqual({ code: 1000, reason: 'done' });
  });

  it('forwards a close without a code as such, and a lost peer as 1001', async () => {
    const [sender, rendezvous] = await tunnel();
    const atListener = closed(rendezvous);
    sender.close();
    expect((await atListener).code).toBe(1005);

    const [sender2, rendezvous2] = await tunnel();
    const atSender = closed(sender2);
    rendezvous2.terminate();
    expect((await atSender).code).toBe(1001);
    await waitUntil(() => relay.stats().activeTunnels === 0, 'the tunnels are forgotten');
  });

  it('bounds in-flight bytes when the reader is slow: 64 MiB arrive intact while the relay buffers at most ~16 MiB', async () => {
    const [sender, rendezvous] = await tunnel();
    const chunkBytes = 64 * 1024;
    const totalBytes = 64 * 1024 * 1024;
    const pausesBefore = relay.stats().counters.backpressurePauses;
    rendezvous.pause(); // the slow reader: reads nothing until the relay has pushed back

    const received = createHash('sha256');
    let receivedBytes = 0;
    const allReceived = new Promise<void>((resolve) =>
      rendezvous.on('message', (data: Buffer) => {
        received.update(data);
        receivedBytes += data.length;
        if (receivedBytes === totalBytes) resolve();
      }),
    );

    const sent = createHash('sha256');
    const writer = (async () => {
      for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
        const chunk = randomBytes(chunkBytes);
        sent.update(chunk);
        // A well-behaved writer: wait while its own socket is backed up.
        while (sender.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
        sender.send(chunk);
      }
    })();

    await waitUntil(
      () => relay.stats().counters.backpressurePauses > pausesBefore,
      'the relay stops reading the sender',
      20_000,
    );
    rendezvous.resume();
    await writer;
    await allReceived;

    expect(received.digest('hex')).toBe(sent.digest('hex'));
    const stats = relay.stats();
    expect(stats.counters.maxBufferedBytesObserved).toBeGreaterThan(DEFAULT_MAX_IN_FLIGHT_BYTES);
    // The bound is checked after each forwarded message: at most one message plus one socket read over it.
    expect(stats.counters.maxBufferedBytesObserved).toBeLessThanOrEqual(
      DEFAULT_MAX_IN_FLIGHT_BYTES + 2 * chunkBytes,
    );
  });
});
