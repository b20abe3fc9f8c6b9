// Two relay-gateway module instances on one gateway device (relay-gateway and relay-gateway-2, each its own module
// identity and twin over MQTT to the sandbox IoT Hub, as the deployment generator declares them with
// GATEWAY_MODULES=2): the controller splits the pool's locations between them, each binds only its own routes'
// ports, and bytes flow through both to twin-configured forwarders (unmodified SDKs, sandbox relay, TLS).
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import pino from 'pino';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { JsonObject } from '../../cloud/src/model/json';
import {
  DEFAULT_POOL,
  freePortRange,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import { connectWhenListening, startTwinForwarder, startTwinGateway } from '../support/controller-modules';
import { startEchoTarget } from '../support/e2e-targets';
import { waitFor, type TestTcpServer } from '../support/tunnel-harness';

const DEVICE = 'gw-multi';
const INSTANCES = ['relay-gateway', 'relay-gateway-2'];

describe('two relay-gateway instances on one gateway device', () => {
  let world: ControllerWorld;
  let echo: TestTcpServer;
  const forwarders: ForwarderTwinApp[] = [];
  const gateways: GatewayTwinApp[] = [];
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    world = await startControllerWorld();
    echo = await startEchoTarget();
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const g of gateways) g.hurry();
    await Promise.all([...gateways.map((g) => g.stop(0)), ...forwarders.map((f) => f.stop(0))]);
    await world.close();
    await echo.close();
  });

  it('each instance binds only the routes of its own twin, and both carry bytes', async () => {
    const firstPort = await freePortRange(3);
    const pool = {
      name: 'multi',
      firstPort,
      lastPort: firstPort + 2,
      allow: ['127.0.0.0/8'],
      bindAddress: '127.0.0.1',
      gatewayModules: 2,
    };
    await world.addGateway(DEVICE, 'multi');
    world.hub.createModule(DEVICE, 'relay-gateway-2');
    for (const id of ['site-a', 'site-b'])
      await world.addLocation(id, { echo: `127.0.0.1:${echo.port}` }, { pool: 'multi' });

    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    for (const id of ['site-a', 'site-b']) forwarders.push(startTwinForwarder(world, id, log));
    for (const moduleId of INSTANCES) gateways.push(await startTwinGateway(world, DEVICE, log, { moduleId }));

    const controller = world.startController({ pools: [DEFAULT_POOL, pool] });
    expect(await controller.reconcileNow()).toMatchObject({ outcome: 'converged', actionsFailed: 0 });
    await controller.stop();

    // The controller's split: one location per instance (a newcomer goes to the twin with the most room).
    const docs = await Promise.all(INSTANCES.map((m) => world.desired(DEVICE, m)));
    const routeNames = docs.map((d) => Object.keys(d.routes as JsonObject));
    expect(routeNames).toEqual([['site-a_echo'], ['site-b_echo']]);
    // Least privilege holds per instance too: each holds the Send token of its own locations only.
    expect(docs.map((d) => Object.keys(d.hybridConnections as JsonObject))).toEqual([
      ['hrf-site-a'],
      ['hrf-site-b'],
    ]);
    const ports = docs.map((d) => Object.values(d.routes as Record<string, { port: number }>)[0]!.port);
    expect(new Set(ports).size).toBe(2);

    // Each process applied its own twin: it listens on its own route's port and holds no other route.
    for (const [i, app] of gateways.entries()) {
      await waitFor(
        () => app.gateway.state().routes[routeNames[i]![0]!]?.status === 'listening',
        `${INSTANCES[i]} listening`,
        15_000,
      );
      const routes = app.gateway.state().routes;
      expect(Object.keys(routes)).toEqual(routeNames[i]);
      expect(routes[routeNames[i]![0]!]).toMatchObject({ port: ports[i], boundPort: ports[i] });
    }
    for (const f of forwarders)
      await waitFor(
        () => Object.values(f.forwarder.state().hybridConnections).some((h) => h.onlineListeners > 0),
        'forwarder listeners online',
        15_000,
      );

    // Bytes through each instance's port reach the echo server and come back intact.
    for (const port of ports) {
      const payload = randomBytes(256 * 1024);
      const socket = await connectWhenListening(port);
      sockets.push(socket);
      const back = await echoed(socket, payload);
      expect(sha256(back)).toBe(sha256(payload));
    }
  }, 60_000);
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function echoed(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`echo incomplete: ${length} of ${payload.length}`)),
      15_000,
    );
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= payload.length) {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', reject);
  });
  socket.write(payload);
  return done;
}
