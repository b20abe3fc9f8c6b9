// End to end: a client served on a pre-warmed relay connection still reaches its target as itself. The warm
// connection's connect headers were fixed before the client existed, so the gateway sends the client's metadata
// in-band (`hrf:meta`) to a forwarder that announced it reads it (`hrf:warm`): the PROXY-aware target sees the real
// client address (v1 and v2) and the forwarder's log lines carry it. Real gateway, forwarder and sandbox relay.
import { createHash } from 'node:crypto';
import pino from 'pino';
import { e2eRoute, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { startProxyAwareTarget, type ProxySeen } from '../support/proxy-aware-target';
import { patternBytes, type TestTcpServer } from '../support/tunnel-harness';

type Line = Record<string, unknown>;

describe('e2e warm connections carry the client metadata', () => {
  let world: E2eWorld;
  let target: TestTcpServer;
  const forwarderLines: Line[] = [];
  const gatewayLines: Line[] = [];
  const collect = (into: Line[]) =>
    pino({ level: 'debug' }, { write: (line: string) => into.push(JSON.parse(line) as Line) });

  beforeAll(async () => {
    target = await startProxyAwareTarget();
    world = await startE2eWorld({
      forwarderLog: collect(forwarderLines),
      gatewayLogger: collect(gatewayLines),
      services: () => ({
        v1: { target: `127.0.0.1:${target.port}`, proxyProtocol: 'v1' },
        v2: { target: `127.0.0.1:${target.port}`, proxyProtocol: 'v2' },
      }),
      // Warm connections are on by default: the routes say nothing about them (multiplexing, on by default too,
      // is switched off on these; the m1/m2 routes carry the same clients as multiplexed streams).
      routes: {
        v1: e2eRoute('v1', { multiplex: false }),
        v2: e2eRoute('v2', { multiplex: false }),
        m1: e2eRoute('v1', { warmConnections: 0 }),
        m2: e2eRoute('v2', { warmConnections: 0 }),
      },
    });
  });

  afterAll(async () => {
    await world?.close();
    await target?.close();
  });

  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const warmLines = (): Line[] => gatewayLines.filter((l) => l.msg === 'tunnel opened on a warm connection');

  async function send(routeId: string, payload: Buffer) {
    const client = await connectClient(world.port(routeId));
    const local = `${client.socket.localAddress}:${client.socket.localPort}`;
    client.socket.end(payload);
    const end = await client.ended;
    client.socket.destroy();
    const text = end.received.toString();
    return { local, seen: text ? (JSON.parse(text) as ProxySeen) : undefined };
  }

  it.each([
    ['v1', 1],
    ['v2', 2],
  ])(
    'a client on a warm connection to a %s service: the target and the forwarder log see its address',
    async (route, version) => {
      const warmBefore = warmLines().length;
      const locals: string[] = [];
      // The first client opens cold and starts the pool; a later one gets a warm connection once one is ready.
      for (let i = 0; i < 40 && warmLines().length === warmBefore; i++) {
        const payload = patternBytes(64 * 1024 + i, version + i);
        const { local, seen } = await send(route, payload);
        locals.push(local);
        expect(seen).toEqual({ version, source: local, sha256: sha(payload) });
        await sleep(300);
      }
      const used = warmLines().slice(warmBefore);
      expect(used.length).toBeGreaterThan(0);
      // The forwarder knows a warm tunnel by the warm connection's relay id; its lines name the client.
      for (const line of used) {
        await eventually(
          () =>
            forwarderLines.some(
              (l) =>
                l.msg === 'tunnel closed' &&
                l.tunnelId === line.relayConnectionId &&
                locals.includes(l.clientAddress as string),
            ),
          'the forwarder logging the warm tunnel with the client address',
        );
      }
    },
    60_000,
  );

  const muxLines = (): Line[] =>
    gatewayLines.filter((l) => l.msg === 'tunnel opened as a multiplexed stream');

  it.each([
    ['m1', 1],
    ['m2', 2],
  ])(
    'a client on a multiplexed stream (route %s): the target sees its address in PROXY v%s, the forwarder logs it',
    async (route, version) => {
      const muxBefore = muxLines().length;
      const locals: string[] = [];
      // The first client opens classic while the mux connection opens behind it; a later one is a stream.
      for (let i = 0; i < 40 && muxLines().length === muxBefore; i++) {
        const payload = patternBytes(64 * 1024 + i, 10 * version + i);
        const { local, seen } = await send(route, payload);
        locals.push(local);
        expect(seen).toEqual({ version, source: local, sha256: sha(payload) });
        await sleep(100);
      }
      const used = muxLines().slice(muxBefore);
      expect(used.length).toBeGreaterThan(0);
      for (const line of used) {
        const tunnelId = `${line.relayConnectionId as string}/${line.streamId as number}`;
        await eventually(
          () =>
            forwarderLines.some(
              (l) =>
                l.msg === 'tunnel closed' &&
                l.tunnelId === tunnelId &&
                locals.includes(l.clientAddress as string),
            ),
          'the forwarder logging the stream with the client address',
        );
      }
    },
    60_000,
  );
});
