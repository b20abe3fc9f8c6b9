// The gateway's pre-warmed relay connections against the sandbox relay over TLS: a new client gets a connection
// the listener already accepted, a warm connection that dies at the moment of use is replaced by a cold one
// without the client noticing, and releasing the route closes every warm connection (nothing held).
import { createHash, randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { acceptListenerTunnel } from '../../modules/common/src/tunnel/listener-tunnel';
import type { GatewayHybridConnection } from '../../modules/relay-gateway/src/config/types';
import { createRelayTunnelOpener, type TunnelRequest } from '../../modules/relay-gateway/src/tunnel-opener';
import { WARM_HEADER } from '../../modules/relay-gateway/src/warm-pool';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { createSandboxHybridConnection } from '../support/hc-endpoints';
import { nextEvent, until } from '../support/hc-fake-service';

interface Arrival {
  readonly id: string;
  readonly warm: boolean;
  readonly ws: WebSocket;
  preambleRead: boolean;
}

let relay: SandboxRelay;
let listener: HybridConnectionListener;
let hybridConnection: GatewayHybridConnection;
const arrivals: Arrival[] = [];
/** Ids of warm connections the listener drops when their preamble arrives (a forwarder lost at that moment). */
const dropOnPreamble = new Set<string>();

beforeAll(async () => {
  relay = await startSandboxRelay();
  const hc = createSandboxHybridConnection(relay, 'warm');
  const send = relay.createAuthorizationRule('warm', 'gateway', ['Send']);
  hybridConnection = {
    name: 'warm',
    namespace: relay.namespace,
    path: 'warm',
    credential: { kind: 'key', keyName: send.keyName, key: send.primaryKey },
  };
  listener = new HybridConnectionListener(hc.listen);
  listener.on('connection', (ws, request) => {
    const warm = request.connectHeaders[WARM_HEADER] === '1';
    const arrival: Arrival = { id: request.id, warm, ws, preambleRead: false };
    arrivals.push(arrival);
    void (async () => {
      let tunnel;
      try {
        tunnel = await acceptListenerTunnel(ws, request.connectHeaders, { preambleTimeoutMs: 60_000 });
      } catch {
        return;
      }
      arrival.preambleRead = true;
      if (dropOnPreamble.has(request.id)) return ws.terminate();
      // An echo service: every byte back.
      const duplex = tunnel.confirm();
      duplex.on('data', (chunk: Buffer) => duplex.write(chunk));
      duplex.on('end', () => duplex.end());
      duplex.on('error', () => undefined);
    })();
  });
  const up = nextEvent(listener, 'online');
  listener.start();
  await up;
});

afterAll(async () => {
  await listener.close();
  await relay.stop();
});

const openWarm = (x: number): boolean => arrivals.filter((a) => a.warm && a.ws.readyState === 1).length >= x;

async function echo(duplex: NodeJS.ReadWriteStream, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  duplex.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  duplex.write(payload);
  await until(() => received >= payload.length, 20_000, 'the echo');
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

it('hands a warm connection to the next client, replaces a dead one with a cold one, and releases them all', async () => {
  const opener = createRelayTunnelOpener({ tls: { ca: relay.caPem } });
  const request = (connectionId: string): TunnelRequest => ({
    routeId: 'r',
    connectionId,
    hybridConnection,
    service: 'echo',
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    warm: { maxSize: 2, maxIdleMs: 30_000 },
  });
  try {
    // The first client opens cold (the pool starts empty) and the pool fills behind it.
    const first = await opener(request('client-1'));
    expect(first.relayConnectionId).toBeUndefined();
    expect(arrivals.find((a) => a.id === 'client-1')?.warm).toBe(false);
    await until(() => openWarm(1), 20_000, 'a warm connection');
    const warmId = arrivals.find((a) => a.warm)!.id;

    // The second client rides the warm connection: no new rendezvous for it, and bytes go both ways intact.
    const second = await opener(request('client-2'));
    expect(second.relayConnectionId).toBe(warmId);
    expect(arrivals.some((a) => a.id === 'client-2')).toBe(false);
    const payload = randomBytes(64 * 1024);
    expect(sha(await echo(second.duplex, payload))).toBe(sha(payload));

    // A warm connection the listener drops as the preamble arrives: the client gets a cold one instead.
    await until(
      () => arrivals.some((a) => a.warm && a.id !== warmId && a.ws.readyState === 1),
      20_000,
      'a refill',
    );
    for (const a of arrivals) if (a.warm && !a.preambleRead) dropOnPreamble.add(a.id);
    const third = await opener(request('client-3'));
    expect(third.relayConnectionId).toBeUndefined();
    expect(arrivals.find((a) => a.id === 'client-3')?.warm).toBe(false);
    expect(sha(await echo(third.duplex, Buffer.from([7])))).toBe(sha(Buffer.from([7])));

    // Releasing the route closes every warm connection it held.
    await until(() => openWarm(1), 20_000, 'another refill');
    opener.releaseRoute!('r');
    await until(
      () => arrivals.every((a) => !a.warm || a.preambleRead || a.ws.readyState === 3),
      20_000,
      'warm connections to close',
    );
    for (const t of [first, second, third]) t.duplex.destroy();
  } finally {
    opener.close!();
  }
});

it('opens everything cold when warmConnections is 0', async () => {
  const opener = createRelayTunnelOpener({ tls: { ca: relay.caPem } });
  const before = arrivals.length;
  try {
    for (const id of ['off-1', 'off-2', 'off-3']) {
      const tunnel = await opener({
        routeId: 'off',
        connectionId: id,
        hybridConnection,
        service: 'echo',
        timeoutMs: 20_000,
        signal: new AbortController().signal,
        warm: { maxSize: 0, maxIdleMs: 30_000 },
      });
      expect(tunnel.relayConnectionId).toBeUndefined();
      tunnel.duplex.destroy();
    }
    expect(arrivals.slice(before).map((a) => a.id)).toEqual(['off-1', 'off-2', 'off-3']);
  } finally {
    opener.close!();
  }
});

it('recycles an unused warm connection after maxIdleMs and opens a fresh one while clients keep coming', async () => {
  const opener = createRelayTunnelOpener({ tls: { ca: relay.caPem } });
  const before = arrivals.length;
  try {
    const first = await opener({
      routeId: 'recycle',
      connectionId: 'recycle-1',
      hybridConnection,
      service: 'echo',
      timeoutMs: 20_000,
      signal: new AbortController().signal,
      warm: { maxSize: 1, maxIdleMs: 1_000 },
    });
    first.duplex.destroy();
    const mine = () => arrivals.slice(before).filter((a) => a.warm);
    await until(() => mine().length >= 1, 20_000, 'a warm connection');
    const original = mine()[0]!;
    // Closed unused by the gateway (never given a preamble), and replaced by a new one.
    await until(() => original.ws.readyState === 3, 20_000, 'the warm connection to be recycled');
    expect(original.preambleRead).toBe(false);
    await until(() => mine().some((a) => a !== original && a.ws.readyState === 1), 20_000, 'its replacement');
  } finally {
    opener.close!();
  }
});
