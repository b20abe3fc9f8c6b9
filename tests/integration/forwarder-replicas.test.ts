// A redundant on-prem side: two relay-forwarder processes (twin mode, as IoT Edge runs them) serve one location,
// admitted by the controller as primary and replica, each holding its listeners on the location's one hybrid
// connection; the relay spreads connections over all of them. One replica is killed with SIGKILL while 16 tunnels
// are open: the tunnels it carried end (the gateway counts them, with their reason), the others keep carrying
// sha256-verified bytes, and every one of 30 new connections made right after the kill succeeds.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { moduleClientFromEnvironment } from '../../modules/common/src/twin/module-client';
import { startGatewayFromTwin, type GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { JsonObject } from '../../cloud/src/model/json';
import {
  DEFAULT_POOL,
  freePortRange,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import { startTcpServer, waitFor, type TestTcpServer } from '../support/tunnel-harness';

type Reported = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LIVE = 16;
const NEW = 30;
const HC = 'hrf-plant';

describe('two forwarders for one location', () => {
  let world: ControllerWorld;
  let echo: TestTcpServer;
  let gateway: GatewayTwinApp | undefined;
  const children: { child: ChildProcessWithoutNullStreams; exited: boolean }[] = [];
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    world = await startControllerWorld();
    echo = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const c of children) if (!c.exited) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exited ? undefined : once(c.child, 'exit'))));
    gateway?.hurry();
    await gateway?.stop(0);
    await world.close();
    await echo.close();
  });

  function startForwarder(deviceId: string) {
    const entry = join(__dirname, '../../modules/relay-forwarder/src/main.ts');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', entry, '--relay-ca', world.hub.caFile!],
      {
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'warn',
          HEALTH_PORT: '0',
          REPORTED_DEBOUNCE_MS: '50',
          REPORTED_REFRESH_MS: '300',
          ...world.moduleEnvironment(deviceId, 'relay-forwarder'),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdout.resume();
    child.stderr.resume();
    const entryRef = { child, exited: false };
    child.once('exit', () => (entryRef.exited = true));
    children.push(entryRef);
    return entryRef;
  }

  async function reported(deviceId: string): Promise<Reported> {
    const { responseBody } = await world.registry.getModuleTwin(deviceId, 'relay-forwarder');
    return (responseBody as unknown as { properties: { reported: Reported } }).properties.reported;
  }
  const activeOn = async (deviceId: string): Promise<number> => {
    const svc = (await reported(deviceId)).hybridConnections?.[HC]?.services?.echo;
    return (svc?.active ?? svc?.counters?.active ?? 0) as number;
  };
  const onlineOn = async (deviceId: string): Promise<number> =>
    ((await reported(deviceId)).hybridConnections?.[HC]?.onlineListeners as number | undefined) ?? 0;

  it('keeps serving through the loss of one replica: new connections all succeed, its tunnels end with a reason', async () => {
    const port = await freePortRange(1);
    const pool = {
      name: 'site',
      firstPort: port,
      lastPort: port,
      allow: ['127.0.0.0/8'],
      bindAddress: '127.0.0.1',
    };
    await world.addGateway('gw-1', 'site');
    const services = { echo: `127.0.0.1:${echo.port}` };
    await world.addLocation('plant-a', services, { location: 'plant', pool: 'site' });
    await world.addLocation('plant-b', services, { location: 'plant', pool: 'site' });
    gateway = await startGatewayFromTwin({
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      tls: { ca: world.relay.caPem },
      connection: {
        createClient: () => moduleClientFromEnvironment(world.moduleEnvironment('gw-1', 'relay-gateway')),
        backoff: { initialDelayMs: 100, maxDelayMs: 400, multiplier: 2, jitterRatio: 0 },
        stableSessionMs: 1_000,
        setupTimeoutMs: 5_000,
      },
      reported: { debounceMs: 50, refreshIntervalMs: 0 },
      stats: { intervalMs: 0 },
      identity: { deviceId: 'gw-1', moduleId: 'relay-gateway' },
    });
    const controller = world.startController({ pools: [DEFAULT_POOL, pool] });
    expect((await controller.reconcileNow()).outcome).toBe('converged');
    expect(((await world.tags('plant-a')).relayStatus as JsonObject).replicas).toEqual(['plant-b']);
    expect(((await world.tags('plant-b')).relayStatus as JsonObject).replicaOf).toBe('plant-a');

    startForwarder('plant-a');
    const b = startForwarder('plant-b');
    for (const id of ['plant-a', 'plant-b'])
      await waitForAsync(async () => (await onlineOn(id)) === 2, `${id} listeners online`, 30_000);

    // 16 live tunnels, spread by the relay over both replicas' four listeners.
    const live: { socket: net.Socket; ended: boolean }[] = [];
    for (let i = 0; i < LIVE; i++) {
      const socket = await connect(port);
      sockets.push(socket);
      expect(await echoRoundTrip(socket, randomBytes(1024))).toBe(true);
      const entry = { socket, ended: false };
      socket.once('close', () => (entry.ended = true));
      live.push(entry);
    }
    await waitForAsync(
      async () => (await activeOn('plant-a')) + (await activeOn('plant-b')) === LIVE,
      'both replicas to report the live tunnels',
      30_000,
    );
    const onB = await activeOn('plant-b');
    const brokenBefore = brokenCounts(gateway);

    b.child.kill('SIGKILL');
    await waitFor(() => b.exited, 'plant-b to die', 10_000);

    // New connections right away: every one must work.
    let succeeded = 0;
    for (let i = 0; i < NEW; i++) {
      const socket = await connect(port);
      sockets.push(socket);
      if (await echoRoundTrip(socket, randomBytes(16 * 1024))) succeeded++;
      socket.destroy();
    }
    // The tunnels the dead replica carried end; the rest still carry every byte.
    await waitFor(
      () => live.filter((l) => l.ended).length >= onB,
      'the dead replica’s tunnels to end',
      30_000,
    );
    const survivors = live.filter((l) => !l.ended);
    for (const s of survivors) expect(await echoRoundTrip(s.socket, randomBytes(8 * 1024))).toBe(true);
    const ended = live.length - survivors.length;
    const brokenAfter = brokenCounts(gateway);
    const reasons: Record<string, number> = {};
    for (const [reason, n] of Object.entries(brokenAfter)) {
      const more = n - (brokenBefore[reason] ?? 0);
      if (more > 0) reasons[reason] = more;
    }
    console.log(
      `replica loss: ${LIVE} live tunnels (${onB} on the killed replica): ${ended} ended, reasons at the gateway ` +
        `${JSON.stringify(reasons)}, ${survivors.length} kept their bytes; new connections after the kill ${succeeded}/${NEW}`,
    );
    expect(succeeded).toBe(NEW);
    expect(ended).toBe(onB);
    expect(Object.values(reasons).reduce((a, n) => a + n, 0)).toBe(onB);
  }, 120_000);
});

function brokenCounts(gateway: GatewayTwinApp | undefined): Record<string, number> {
  const route = gateway?.gateway.state().routes['plant_echo'];
  return { ...(route?.counters.broken ?? {}) } as Record<string, number>;
}

async function waitForAsync(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Sends `payload` and resolves true when exactly those bytes came back (sha256), false when the socket closed. */
function echoRoundTrip(socket: net.Socket, payload: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const back = createHash('sha256');
    let received = 0;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      back.update(chunk);
      received += chunk.length;
      if (received >= payload.length)
        done(back.digest('hex') === createHash('sha256').update(payload).digest('hex'));
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), 15_000);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(payload);
  });
}
