// UDP configured by module twins: the unmodified service SDK patches desired properties on the sandbox IoT Hub,
// the forwarder gets a udp service and the gateway a udpRoutes entry; a real UDP client's datagrams go through the
// sandbox relay, and both modules report the flow in their reported properties. An invalid UDP route is refused
// with its JSON pointer while the running configuration keeps carrying datagrams.
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import {
  forwarderDesired,
  FORWARDER,
  GATEWAY,
  gatewayDesired,
  startTwinWorld,
  type TwinWorld,
} from '../support/twin-world';
import { gameRequest, sha256, startGameServer, UdpClient, type UdpServer } from '../support/udp-targets';

/** Reported properties read as plain JSON (tests index into them freely). */
type Reported = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('UDP configured by module twins', () => {
  let world: TwinWorld;
  let game: UdpServer;
  let client: UdpClient;
  let forwarder: ForwarderTwinApp;
  let gateway: GatewayTwinApp;

  beforeAll(async () => {
    world = await startTwinWorld();
    game = await startGameServer();
    client = await UdpClient.open();
    const desired = forwarderDesired(world, {}) as Reported;
    desired.hybridConnections['site-a'].services = {
      game: { target: `127.0.0.1:${game.port}`, protocol: 'udp' },
    };
    await world.patchDesired(FORWARDER, desired);
    forwarder = world.startForwarder();
    gateway = await world.startGateway();
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'listening',
      'forwarder listening',
    );
  });

  afterAll(async () => {
    await client?.close();
    await game?.close();
    await world?.close();
  });

  it('carries datagrams through a udpRoutes entry set by a desired patch, and reports the flow', async () => {
    await world.patchDesired(GATEWAY, {
      ...gatewayDesired(world, {}),
      udpRoutes: {
        game: {
          port: 0,
          bindAddress: '127.0.0.1',
          hybridConnection: 'site-a',
          service: 'game',
          allow: ['127.0.0.0/8'],
        },
      },
    });
    const reported = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.udpRoutes?.game?.status === 'listening' && typeof r.udpRoutes.game.port === 'number',
      'the UDP route listening',
    )) as Reported;
    const port = reported.udpRoutes.game.port as number;
    const payload = Buffer.from('twin-configured datagram');
    await client.send(port, gameRequest(1, 1, payload));
    const reply = await client.next();
    expect(reply.subarray(6, 38).equals(sha256(payload))).toBe(true);
    // Datagrams never cause a patch by themselves: a flush (the periodic refresh in production) carries the counters.
    await gateway.runner.writer.flush();
    await forwarder.runner.writer.flush();
    const gatewayReported = (await world.moduleTwin(GATEWAY)).reported as Reported;
    expect(gatewayReported.udpRoutes.game.counters).toMatchObject({
      flowsOpened: 1,
      activeFlows: 1,
      datagramsFromClients: 1,
      datagramsToClients: 1,
    });
    const forwarderReported = (await world.moduleTwin(FORWARDER)).reported as Reported;
    expect(forwarderReported.hybridConnections['site-a'].services.game.counters).toMatchObject({
      accepted: 1,
      datagramsToTarget: 1,
      datagramsFromTarget: 1,
    });
  });

  it('refuses an invalid UDP route with its pointer and keeps the running one', async () => {
    await world.patchDesired(GATEWAY, {
      udpRoutes: { bad: { port: 70_000, hybridConnection: 'nope', service: 'x', allow: [] } },
    });
    const reported = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.config?.status === 'refused',
      'the refusal',
    )) as Reported;
    const paths = (reported.config.refused.problems as Array<{ path: string }>).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/udpRoutes/bad/port', '/udpRoutes/bad/hybridConnection']));
    const port = reported.udpRoutes.game.port as number;
    const payload = Buffer.from('still carried');
    await client.send(port, gameRequest(1, 2, payload));
    expect((await client.next()).subarray(6, 38).equals(sha256(payload))).toBe(true);
  });
});
