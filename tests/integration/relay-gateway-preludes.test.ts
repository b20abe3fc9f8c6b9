// Clients still in a prelude (a PROXY header, a ClientHello, an mTLS handshake) have no session yet: removing
// their route, or stopping the gateway, must cut them at once rather than leave them until their timeout.
import { Gateway } from '../../modules/relay-gateway/src/gateway';
import {
  connectClient,
  gatewayDocument,
  loopbackRoute,
  routePort,
  ScriptedOpener,
  testLogger,
} from '../support/relay-gateway-harness';

describe('gateway preludes are released with their route', () => {
  let gateway: Gateway;
  let opener: ScriptedOpener;

  beforeEach(() => {
    opener = new ScriptedOpener();
    gateway = new Gateway({ opener: opener.open, logger: testLogger() });
  });

  afterEach(async () => {
    gateway.closeAllConnections();
    await gateway.stop(0);
  });

  it.each([
    [
      'a PROXY header',
      { acceptProxyProtocol: { trustedSources: ['127.0.0.0/8'], headerTimeoutMs: 60_000 } },
      'PROXY TCP4 1',
    ],
    [
      'a ClientHello',
      {
        sni: {
          names: { 'a.example.test': { hybridConnection: 'hc', service: 's' } },
          helloTimeoutMs: 60_000,
        },
      },
      '\x16\x03\x01\x02\x00\x01',
    ],
  ])(
    'a client half-way through %s is closed when its route is removed',
    async (_what, more, partial) => {
      const applied = await gateway.applyDocument(gatewayDocument({ r: loopbackRoute(more) }));
      expect(applied.ok).toBe(true);
      const client = await connectClient(routePort(gateway, 'r'));
      client.socket.write(Buffer.from(partial, 'latin1'));
      await new Promise((r) => setTimeout(r, 50));
      expect((await gateway.applyDocument(gatewayDocument({}))).ok).toBe(true);
      // Bounded by the test timeout (20 s), far below the 60 s prelude timeout.
      await client.ended;
      expect(opener.requests).toHaveLength(0);
    },
    20_000,
  );

  it('disabling the route cuts a client in its prelude', async () => {
    const proxy = { acceptProxyProtocol: { trustedSources: ['127.0.0.0/8'], headerTimeoutMs: 60_000 } };
    await gateway.applyDocument(gatewayDocument({ r: loopbackRoute(proxy) }));
    const client = await connectClient(routePort(gateway, 'r'));
    client.socket.write('PROXY ');
    await new Promise((r) => setTimeout(r, 50));
    expect(
      (await gateway.applyDocument(gatewayDocument({ r: loopbackRoute({ ...proxy, enabled: false }) }))).ok,
    ).toBe(true);
    await client.ended;
    expect(opener.requests).toHaveLength(0);
  }, 20_000);

  it('stop() cuts a client in its prelude', async () => {
    await gateway.applyDocument(
      gatewayDocument({
        r: loopbackRoute({
          acceptProxyProtocol: { trustedSources: ['127.0.0.0/8'], headerTimeoutMs: 60_000 },
        }),
      }),
    );
    const client = await connectClient(routePort(gateway, 'r'));
    client.socket.write('PROX');
    await new Promise((r) => setTimeout(r, 50));
    gateway.closeAllConnections();
    await client.ended;
  }, 20_000);
});
