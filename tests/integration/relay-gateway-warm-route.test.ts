// A route's warm relay connections live only as long as its port: removing the route closes them at once.
import { connectClient, eventually, routePort } from '../support/relay-gateway-harness';
import { startGatewayWorld, type GatewayWorld } from '../support/relay-gateway-world';

let world: GatewayWorld;

beforeAll(async () => {
  world = await startGatewayWorld();
});

afterAll(async () => {
  await world?.close();
});

const document = (routes: Record<string, unknown>) => ({
  schemaVersion: 1,
  hybridConnections: { siteA: { connectionString: world.sendConnectionString } },
  routes,
});

it('opens a warm connection after the first client and closes it when the route is removed', async () => {
  const echo = {
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'siteA',
    service: 'echo',
    allow: ['127.0.0.0/8'],
    // The warm pool alone: a multiplexed connection would be one more relay connection (tests/e2e/mux.test.ts).
    multiplex: false,
  };
  await world.writeConfig(document({ echo }));
  const app = await world.startGateway();
  const client = await connectClient(routePort(app.gateway, 'echo'));
  client.socket.end('hello');
  expect((await client.ended).received.toString()).toBe('hello');
  // The client's own relay connection is gone; the one left open is the warm one the pool opened behind it.
  await eventually(() => world.forwarder.acceptIds.length === 2, 'a warm connection', 20_000);
  await eventually(() => world.relay.stats().activeTunnels === 1, 'only the warm connection open', 20_000);

  await world.writeConfig(document({}));
  await eventually(() => app.gateway.state().routes.echo === undefined, 'the route to be removed', 20_000);
  await eventually(() => world.relay.stats().activeTunnels === 0, 'the warm connection to close', 20_000);
});
