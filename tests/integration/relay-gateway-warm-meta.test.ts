// The gateway's warm connections and per-client metadata, against the sandbox relay over TLS with a raw listener
// built from our tunnel primitives. A listener that does not announce `hrf:warm` (azbridge, an older forwarder)
// never gets a client with metadata on a warm connection: that client opens cold with its connect headers, and
// only metadata-free clients ride the warm connections. A listener that announces gets the metadata in-band.
import { createHash, randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { acceptListenerTunnel } from '../../modules/common/src/tunnel/listener-tunnel';
import { WARM_META_ANNOUNCE_FRAME } from '../../modules/common/src/tunnel/warm-meta';
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
  readonly connectHeaders: Readonly<Record<string, string>>;
  preambleRead: boolean;
  metadata?: Readonly<Record<string, string>>;
}

let relay: SandboxRelay;
let listener: HybridConnectionListener;
let hybridConnection: GatewayHybridConnection;
const arrivals: Arrival[] = [];
/** Whether the listener announces that it reads client metadata on warm connections (our forwarder does). */
let announce = false;

beforeAll(async () => {
  relay = await startSandboxRelay();
  const hc = createSandboxHybridConnection(relay, 'warm-meta');
  const send = relay.createAuthorizationRule('warm-meta', 'gateway', ['Send']);
  hybridConnection = {
    name: 'warm-meta',
    namespace: relay.namespace,
    path: 'warm-meta',
    credential: { kind: 'key', keyName: send.keyName, key: send.primaryKey },
  };
  listener = new HybridConnectionListener(hc.listen);
  listener.on('connection', (ws, request) => {
    const warm = request.connectHeaders[WARM_HEADER] === '1';
    const arrival: Arrival = {
      id: request.id,
      warm,
      ws,
      connectHeaders: request.connectHeaders,
      preambleRead: false,
    };
    arrivals.push(arrival);
    const announcing = warm && announce;
    if (announcing) ws.send(WARM_META_ANNOUNCE_FRAME);
    void (async () => {
      let tunnel;
      try {
        tunnel = await acceptListenerTunnel(ws, request.connectHeaders, {
          preambleTimeoutMs: 60_000,
          acceptMetadata: announcing,
        });
      } catch {
        return;
      }
      arrival.preambleRead = true;
      if (tunnel.metadata) arrival.metadata = tunnel.metadata;
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

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

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

const request = (routeId: string, connectionId: string, headers?: Record<string, string>): TunnelRequest => ({
  routeId,
  connectionId,
  hybridConnection,
  service: 'echo',
  timeoutMs: 20_000,
  signal: new AbortController().signal,
  warm: { maxSize: 1, maxIdleMs: 30_000 },
  ...(headers && { headers }),
});

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

it('to a listener that does not announce, a client with metadata opens cold with its headers; one without rides warm', async () => {
  announce = false;
  const opener = createRelayTunnelOpener({ tls: { ca: relay.caPem } });
  const before = arrivals.length;
  const mine = () => arrivals.slice(before);
  try {
    const first = await opener(request('plain', 'plain-1', { 'x-hrf-client': '203.0.113.7:40001' }));
    expect(first.relayConnectionId).toBeUndefined();
    await until(() => mine().some((a) => a.warm && a.ws.readyState === 1), 20_000, 'a warm connection');
    const warm = mine().find((a) => a.warm)!;

    const headers = { 'x-hrf-client': '203.0.113.8:40002', traceparent };
    const second = await opener(request('plain', 'plain-2', headers));
    expect(second.relayConnectionId).toBeUndefined();
    const cold = mine().find((a) => a.id === 'plain-2');
    expect(cold?.warm).toBe(false);
    expect(cold?.connectHeaders).toMatchObject(headers);
    expect(warm.preambleRead).toBe(false);
    const payload = randomBytes(32 * 1024);
    expect(sha(await echo(second.duplex, payload))).toBe(sha(payload));

    // A client without per-client metadata (nothing to lose) still gets the warm connection.
    const third = await opener(request('plain', 'plain-3'));
    expect(third.relayConnectionId).toBe(warm.id);
    expect(warm.metadata).toBeUndefined();
    expect(sha(await echo(third.duplex, Buffer.from('x')))).toBe(sha(Buffer.from('x')));
    for (const t of [first, second, third]) t.duplex.destroy();
  } finally {
    opener.close!();
  }
});

it('to a listener that announces, the client metadata travels in-band on the warm connection', async () => {
  announce = true;
  const opener = createRelayTunnelOpener({ tls: { ca: relay.caPem } });
  const before = arrivals.length;
  const mine = () => arrivals.slice(before);
  try {
    const first = await opener(request('meta', 'meta-1', { 'x-hrf-client': '203.0.113.7:40001' }));
    expect(first.relayConnectionId).toBeUndefined();
    await until(() => mine().some((a) => a.warm && a.ws.readyState === 1), 20_000, 'a warm connection');
    const warm = mine().find((a) => a.warm)!;
    const headers = {
      'x-hrf-client': '[2001:db8::7]:40003',
      'x-hrf-client-cert': 'serial=0A; subject=CN=c',
      traceparent,
    };
    // The announcement travels behind the accept; a client that comes before it arrives is served cold.
    let tunnel = await opener(request('meta', 'meta-2', headers));
    for (let i = 3; tunnel.relayConnectionId === undefined && i < 60; i++) {
      tunnel.duplex.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      tunnel = await opener(request('meta', `meta-${i}`, headers));
    }
    expect(tunnel.relayConnectionId).toBe(mine().find((a) => a.warm && a.preambleRead)?.id);
    const used = mine().find((a) => a.id === tunnel.relayConnectionId)!;
    expect(used.connectHeaders['x-hrf-client']).toBeUndefined();
    expect(used.metadata).toEqual(headers);
    expect(warm.warm).toBe(true);
    const payload = randomBytes(32 * 1024);
    expect(sha(await echo(tunnel.duplex, payload))).toBe(sha(payload));
    for (const t of [first, tunnel]) t.duplex.destroy();
  } finally {
    opener.close!();
  }
});
