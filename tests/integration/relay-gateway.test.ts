// relay-gateway data path against the sandbox relay over TLS: client → gateway → relay → a forwarder-side
// listener made of library parts → TCP target. Refusals, tunnel failures and their recorded reasons.
import { once } from 'node:events';
import type { TunnelFailedEvent } from '../../modules/relay-gateway/src/events';
import type { GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import { classicRoutes } from '../support/classic-routes';
import { connectClient, eventually, routePort } from '../support/relay-gateway-harness';
import { startGatewayWorld, type GatewayWorld } from '../support/relay-gateway-world';
import { patternBytes, sha256 } from '../support/tunnel-harness';

describe('relay-gateway through the sandbox relay (TLS)', () => {
  let world: GatewayWorld;
  let app: GatewayFileApp;

  const route = (service: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'siteA',
    service,
    allow: ['127.0.0.0/8'],
    ...more,
  });

  beforeAll(async () => {
    world = await startGatewayWorld();
    await world.writeConfig({
      schemaVersion: 1,
      hybridConnections: {
        siteA: { connectionString: world.sendConnectionString },
        nobody: { connectionString: world.emptySendConnectionString },
        wrongRight: { connectionString: world.listenConnectionString },
        wrongKey: {
          connectionString: world.sendConnectionString.replace(
            /SharedAccessKey=[^;]+/,
            'SharedAccessKey=bm9wZQ==',
          ),
        },
      },
      // Classic routes: the allow-list case reads the relay's accept and refusal counters, which a warm pool
      // refilling (or failing to, on the refused routes) or a mux offer in the background would also move.
      routes: classicRoutes({
        echo: route('echo'),
        sink: route('sink'),
        down: route('down'),
        slow: route('slow'),
        unknown: route('no-such-service'),
        noListener: route('echo', { hybridConnection: 'nobody' }),
        forbidden: route('echo', { hybridConnection: 'wrongRight' }),
        unauthorized: route('echo', { hybridConnection: 'wrongKey' }),
        fenced: route('echo', { allow: ['10.0.0.0/8'] }),
        single: route('echo', { maxConnections: 1 }),
      }),
    });
    app = await world.startGateway();
  });

  afterAll(async () => {
    await world?.close();
  });

  const port = (routeId: string): number => routePort(app.gateway, routeId);
  const counters = (routeId: string) => app.gateway.state().routes[routeId]!.counters;

  it('carries 8 MiB to the target and the answer back, with half-close (sha256)', async () => {
    const payload = patternBytes(8 * 1024 * 1024, 7);
    const client = await connectClient(port('sink'));
    client.socket.end(payload);
    const end = await client.ended;
    expect(end.errorCode).toBeUndefined();
    expect(end.received.toString()).toBe(sha256(payload));
    await eventually(() => counters('sink').active === 0, 'the tunnel to close');
    expect(counters('sink')).toMatchObject({
      accepted: 1,
      tunneled: 1,
      broken: {},
      bytesFromClients: payload.length,
    });
  });

  it('echoes through the tunnel, and the forwarder sees the gateway connection id as the accept id', async () => {
    const opened = once(app.gateway, 'tunnel-open');
    const client = await connectClient(port('echo'));
    const [event] = (await opened) as [{ connectionId: string }];
    client.socket.end('ping');
    expect((await client.ended).received.toString()).toBe('ping');
    expect(world.forwarder.acceptIds).toContain(event.connectionId);
  });

  it.each([
    ['down', 'target-refused'],
    ['slow', 'target-timeout'],
    ['unknown', 'unknown-service'],
    ['noListener', 'no-listener'],
    ['forbidden', 'forbidden'],
    ['unauthorized', 'unauthorized'],
  ])('closes the client at once when the tunnel cannot open (%s → %s)', async (routeId, reason) => {
    const failed = once(app.gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    const client = await connectClient(port(routeId));
    client.socket.write('hello?');
    const end = await client.ended;
    expect(end).toEqual({ received: Buffer.alloc(0), errorCode: 'ECONNRESET' });
    const [event] = await failed;
    expect(event).toMatchObject({ routeId, reason });
    expect(counters(routeId).failed).toEqual({ [reason]: 1 });
  });

  it('resets sources outside the allow-list without touching the relay', async () => {
    const relayWork = (): number[] => {
      const c = world.relay.stats().counters;
      return [c.acceptsDispatched, c.connectsRefused];
    };
    const before = relayWork();
    const client = await connectClient(port('fenced'));
    expect((await client.ended).errorCode).toBe('ECONNRESET');
    expect(counters('fenced')).toMatchObject({ accepted: 0, refused: { 'not-allowed': 1 } });
    expect(relayWork()).toEqual(before);
  });

  it('refuses a second client beyond the route limit while the first keeps its tunnel', async () => {
    const first = await connectClient(port('single'));
    first.socket.write('one');
    await eventually(() => first.received().length === 3, 'the first echo');
    const second = await connectClient(port('single'));
    expect((await second.ended).errorCode).toBe('ECONNRESET');
    expect(counters('single').refused).toEqual({ 'route-limit': 1 });
    first.socket.end('+');
    expect((await first.ended).received.toString()).toBe('one+');
  });
});
