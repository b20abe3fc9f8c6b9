// End to end: a client that does not read while the target produces far more than the path can hold. Memory must
// stay bounded (backpressure from the client's socket all the way back to the target), and every byte must still
// arrive once the client reads. Real gateway and forwarder through the sandbox relay over TLS.
import { hashUntilEnd } from '../support/e2e-streams';
import { startSourceTarget, type SourceTarget } from '../support/e2e-targets';
import { e2eRoute, SITE, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { connectTcp } from '../support/tunnel-harness';

const MiB = 1024 * 1024;
/** What the target offers: far more than every buffer on the path together. */
const OFFERED_BYTES = 192 * MiB;

/** Polls `sample` until it stops changing for `stableMs` (the producer is blocked); bounded by `timeoutMs`. */
async function settled(sample: () => number, stableMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = sample();
  let since = Date.now();
  while (Date.now() - since < stableMs) {
    if (Date.now() > deadline) throw new Error(`still moving after ${timeoutMs} ms (at ${last} bytes)`);
    await new Promise((r) => setTimeout(r, 25));
    const now = sample();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

describe('e2e slow reader (real gateway and forwarder)', () => {
  let world: E2eWorld;
  let source: SourceTarget;

  beforeAll(async () => {
    source = await startSourceTarget(OFFERED_BYTES, 9);
    world = await startE2eWorld({
      services: () => ({ source: { target: `127.0.0.1:${source.port}` } }),
      routes: { source: e2eRoute('source') },
    });
  });

  afterAll(async () => {
    await world?.close();
    await source?.close();
  });

  it('keeps buffers and memory bounded while the producer is far ahead, then delivers every byte', async () => {
    const rssBefore = process.memoryUsage().rss;
    const client = await connectTcp(world.port('source'));
    client.pause();

    const produced = await settled(() => source.connections[0]?.written ?? 0, 750, 30_000);
    const rssStalled = process.memoryUsage().rss;
    const gateway = world.gateway.gateway.state().routes.source!.counters;
    const service = world.forwarder.forwarder.state().hybridConnections[SITE]!.services.source!;
    const relay = world.relay.stats().counters;
    const figures = {
      produced,
      heldByClientSocket: client.readableLength,
      gatewayWroteToClient: gateway.bytesToClients,
      relayForwarded: relay.bytesListenerToSender,
      forwarderReadFromTarget: service.bytesFromTarget,
      relayMaxBuffered: relay.maxBufferedBytesObserved,
      rssGrowth: rssStalled - rssBefore,
    };
    // Without backpressure all 192 MiB would pile up in the forwarder, the relay or the gateway. With it, what is
    // in flight is the relay's own bound (16 MiB) plus a few socket buffers and one high-water mark per stream.
    expect(figures.produced).toBeLessThan(80 * MiB);
    // The gateway side: written to the client's socket but not yet in the client's hands (kernel buffers of one
    // loopback connection plus the socket's high-water mark).
    expect(figures.gatewayWroteToClient - figures.heldByClientSocket).toBeLessThan(16 * MiB);
    // The forwarder side: read from the target but not yet taken by the relay.
    expect(figures.forwarderReadFromTarget - figures.relayForwarded).toBeLessThan(16 * MiB);
    expect(figures.relayMaxBuffered).toBeLessThanOrEqual(16 * MiB + 128 * 1024);
    // This process holds the client, gateway, relay, forwarder and target: its growth stays far below what is offered.
    expect(figures.rssGrowth).toBeLessThan(96 * MiB);

    // Once the client reads, everything arrives intact. The client half-closes first: the target keeps sending.
    const read = hashUntilEnd(client);
    client.end();
    client.resume();
    expect(await read).toEqual({ sha256: source.connections[0]!.sha256, bytes: OFFERED_BYTES });
  });
});
