// A peer that stops reading and then vanishes while its tunnel is under backpressure must release everything at
// once, on both sides: the gateway's relay socket and session (the route's connection count), the relay's tunnel,
// the forwarder's relay socket and its connection to the target. Before, a paused WebSocket could not read the
// close handshake's answer, so every end waited out ws's 30 s close timeout. Real gateway and forwarder, sandbox
// relay over TLS, on loopback. No timing claims: a release is polled for, with a cap far below ws's 30 s.
import { createHash } from 'node:crypto';
import type * as net from 'node:net';
import { classicRoutes } from '../support/classic-routes';
import { until } from '../support/hc-fake-service';
import { writePattern } from '../support/e2e-streams';
import { e2eRoute, SITE, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import {
  connectTcp,
  patternBytes,
  sha256,
  startTcpServer,
  type TestTcpServer,
} from '../support/tunnel-harness';

const MiB = 1024 * 1024;
/** Far more than every buffer on the path: the producer is always blocked by backpressure, never done. */
const ENDLESS_BYTES = 4 * 1024 * MiB;
/**
 * Released well before ws's 30 s close timeout (before the fix: 31.8 s). The goal is about 1 s; measured 0.9–3.2 s
 * with gateway, forwarder and relay in this one process on a 2-core machine at load 16–18, so the cap leaves room.
 */
const RELEASE_CAP_MS = 10_000;
const DEPARTURES = ['reset', 'destroy', 'end'] as const;
type Departure = (typeof DEPARTURES)[number];
const PER_KIND = 20;

/** What one target connection saw from its client. */
interface TargetConnection {
  readonly socket: net.Socket;
  written: number;
  received: number;
  /** sha256 hex of what it received, once the client's FIN arrived. */
  endedWith?: string;
}

/** A chatty target: its connections, and a switch that makes them all start writing. */
interface ChattyTarget extends TestTcpServer {
  readonly connections: TargetConnection[];
  /** From now on every connection (open or new) writes. */
  startWriting(): void;
}

/**
 * A target that hashes what it reads and, once told to, writes without end as fast as backpressure lets it. Writing
 * starts only once every tunnel is open, so opening them is not slowed down by the bulk transfer of the first ones.
 */
async function startChattyTarget(): Promise<ChattyTarget> {
  const connections: TargetConnection[] = [];
  const writers: Array<() => void> = [];
  let writing = false;
  const server = await startTcpServer((socket) => {
    socket.on('error', () => undefined);
    const entry: TargetConnection = { socket, written: 0, received: 0 };
    connections.push(entry);
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => {
      entry.received += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => (entry.endedWith = hash.digest('hex')));
    const write = (): void =>
      void writePattern(socket, ENDLESS_BYTES, 5, { onWrite: (n) => (entry.written += n) }).catch(
        () => undefined,
      );
    if (writing) write();
    else writers.push(write);
  });
  return {
    ...server,
    connections,
    startWriting() {
      writing = true;
      for (const write of writers.splice(0)) write();
    },
  };
}

/** A target that accepts and never reads, so a client writing without end is soon held up by backpressure. */
async function startDeafTarget(): Promise<TestTcpServer> {
  return startTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.pause();
  });
}

/**
 * Polls until `sample` stops changing for `stableMs` (everything blocked by backpressure); bounded. `sample`
 * returns undefined while the setup is not complete yet (that never counts as stable).
 */
async function settled(sample: () => number | undefined, stableMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = sample();
  let since = Date.now();
  while (Date.now() - since < stableMs) {
    if (Date.now() > deadline) throw new Error(`still moving after ${timeoutMs} ms (at ${last})`);
    await new Promise((r) => setTimeout(r, 25));
    const now = sample();
    if (now !== last || now === undefined) [last, since] = [now, Date.now()];
  }
}

/** Polls `held` until it reports nothing; resolves with how long that took, or with what was still held at the cap. */
async function released(
  held: () => Record<string, number>,
  capMs: number,
): Promise<{ ms: number; held: Record<string, number> }> {
  const start = Date.now();
  for (;;) {
    const now = held();
    const ms = Date.now() - start;
    if (Object.values(now).every((n) => n === 0) || ms > capMs) return { ms, held: now };
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('tunnels whose peer vanishes under backpressure (real gateway and forwarder)', () => {
  let world: E2eWorld;
  let chatty: ChattyTarget;
  let deaf: TestTcpServer;

  beforeAll(async () => {
    chatty = await startChattyTarget();
    deaf = await startDeafTarget();
    world = await startE2eWorld({
      // A small in-flight bound per tunnel keeps 60 stalled tunnels light on memory; backpressure is the same.
      relay: { maxInFlightBytesPerDirection: 1 * MiB },
      services: () => ({
        chatty: { target: `127.0.0.1:${chatty.port}` },
        deaf: { target: `127.0.0.1:${deaf.port}` },
      }),
      // Opening 60 tunnels on a loaded 2-core machine may take longer than the default 15 s connect timeout.
      // Classic routes: the relay's tunnel count must be exactly what the clients hold (a route's warm pool is
      // held on purpose and released with the route: relay-gateway-warm-route.test.ts; so is a multiplexed
      // connection, which this test leaves out).
      routes: classicRoutes({
        chatty: e2eRoute('chatty', { connectTimeoutMs: 60_000 }),
        deaf: e2eRoute('deaf', { connectTimeoutMs: 60_000 }),
      }),
    });
  }, 60_000);

  /** Every client a test opened; destroyed after each test, so a failure leaves nothing for the next one. */
  const opened: net.Socket[] = [];
  const client = async (route: string): Promise<net.Socket> => {
    const socket = await connectTcp(world.port(route));
    socket.on('error', () => undefined);
    opened.push(socket);
    return socket;
  };
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await world?.close();
    await chatty?.close();
    await deaf?.close();
  });

  const heldFor = (route: string, targets: TestTcpServer): (() => Record<string, number>) => {
    return () => ({
      gatewaySessions: world.gateway.gateway.state().routes[route]!.counters.active,
      relayTunnels: world.relay.stats().activeTunnels,
      forwarderTunnels:
        world.forwarder.forwarder.state().hybridConnections[SITE]!.services[route]?.active ?? 0,
      targetConnections: targets.sockets.size,
    });
  };

  it(`releases everything once ${DEPARTURES.length * PER_KIND} clients that stopped reading leave (RST, destroy, FIN then close)`, async () => {
    const clients: Array<{ socket: net.Socket; kind: Departure }> = [];
    for (const kind of DEPARTURES) {
      for (let i = 0; i < PER_KIND; i++) {
        const socket = await client('chatty');
        // The client never reads: the target's bytes pile up to the path's bounds, then everything stalls.
        socket.pause();
        clients.push({ socket, kind });
      }
    }
    const total = clients.length;
    await until(() => chatty.connections.length === total, 60_000, 'every tunnel open');
    chatty.startWriting();
    await settled(() => chatty.connections.reduce((n, c) => n + c.written, 0), 500, 60_000);
    expect(heldFor('chatty', chatty)()).toEqual({
      gatewaySessions: total,
      relayTunnels: total,
      forwarderTunnels: total,
      targetConnections: total,
    });

    // 'end' clients send a request and their FIN first: every byte of it must reach the target before they go,
    // although the other direction is stalled.
    const request = patternBytes(256 * 1024, 11);
    const ending = clients.filter((c) => c.kind === 'end');
    for (const { socket } of ending) socket.end(request);
    const deadline = Date.now() + 30_000;
    while (chatty.connections.filter((c) => c.endedWith !== undefined).length < ending.length) {
      if (Date.now() > deadline) throw new Error('the ending clients did not reach the target');
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const c of chatty.connections.filter((t) => t.endedWith !== undefined))
      expect({ bytes: c.received, sha256: c.endedWith }).toEqual({
        bytes: request.length,
        sha256: sha256(request),
      });

    for (const { socket, kind } of clients) {
      if (kind === 'reset') socket.resetAndDestroy();
      else socket.destroy();
    }
    const outcome = await released(heldFor('chatty', chatty), RELEASE_CAP_MS);
    process.stderr.write(
      `vanished clients: ${total}, held after ${outcome.ms} ms: ${JSON.stringify(outcome.held)}\n`,
    );
    expect(outcome.held).toEqual({
      gatewaySessions: 0,
      relayTunnels: 0,
      forwarderTunnels: 0,
      targetConnections: 0,
    });
  });

  it('releases everything once targets that stopped reading vanish (RST) under backpressure', async () => {
    const count = 20;
    const clients: net.Socket[] = [];
    const writing: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const socket = await client('deaf');
      socket.resume();
      clients.push(socket);
      writing.push(writePattern(socket, ENDLESS_BYTES, 100 + i).catch(() => undefined));
    }
    let written = 0;
    await settled(
      () =>
        deaf.sockets.size === count ? (written = clients.reduce((n, s) => n + s.bytesWritten, 0)) : undefined,
      500,
      60_000,
    );
    expect(written).toBeGreaterThan(0);
    for (const socket of deaf.sockets) socket.resetAndDestroy();
    const clientsOpen = (): number => clients.filter((s) => !s.destroyed).length;
    const outcome = await released(
      () => ({ ...heldFor('deaf', deaf)(), clientsOpen: clientsOpen() }),
      RELEASE_CAP_MS,
    );
    process.stderr.write(
      `vanished targets: ${count}, held after ${outcome.ms} ms: ${JSON.stringify(outcome.held)}\n`,
    );
    expect(outcome.held).toEqual({
      gatewaySessions: 0,
      relayTunnels: 0,
      forwarderTunnels: 0,
      targetConnections: 0,
      clientsOpen: 0,
    });
    await Promise.all(writing);
  });

  // Last: it stops the gateway.
  it("does not hold up the gateway's drain on stop (SIGTERM) once such clients have left", async () => {
    const count = 10;
    const before = chatty.connections.length;
    const clients: net.Socket[] = [];
    for (let i = 0; i < count; i++) {
      const socket = await client('chatty');
      socket.pause();
      clients.push(socket);
    }
    const mine = (): TargetConnection[] => chatty.connections.slice(before);
    await settled(
      () => (mine().length === count ? mine().reduce((n, c) => n + c.written, 0) : undefined),
      500,
      60_000,
    );
    for (const socket of clients) socket.destroy();
    // The drain may take up to 30 s for tunnels still in use; these are gone, so it must end long before.
    let stopped = false;
    const stopping = world.gateway.stop(30_000).then(() => (stopped = true));
    await Promise.race([stopping, new Promise((r) => setTimeout(r, RELEASE_CAP_MS).unref())]);
    expect(stopped).toBe(true);
    await until(() => mine().every((c) => c.socket.destroyed), RELEASE_CAP_MS, 'target connections released');
  });
});
