// Names instead of ports, end to end: the fleet controller (sandbox IoT Hub + Relay ARM, unmodified SDKs) gives
// the services two locations expose by name `{service}.{location}.{zone}` on the pool's shared SNI port; the
// gateway and both forwarders run from the twins it writes; Node's TLS client, with the SNI name, reaches each
// on-prem TLS target through that one port, verifies the target's own certificate (TLS stays end to end: the
// gateway holds none) and gets back the sha256 of every byte it sent. An unknown name is refused.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import pino from 'pino';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { JsonObject } from '../../cloud/src/model/json';
import type { PoolSettings } from '../../cloud/src/settings';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import {
  DEFAULT_POOL,
  freePortRange,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import { startTwinForwarder, startTwinGateway } from '../support/controller-modules';
import { patternBytes, waitFor } from '../support/tunnel-harness';

const ZONE = 'relay.contoso.test';

/** A TLS server that answers `label:` + sha256 of everything the client sent, once the client ends. */
async function startTlsTarget(pki: SandboxPki, label: string): Promise<tls.Server> {
  const server = tls.createServer({ cert: pki.certPem, key: pki.keyPem, allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => hash.update(c));
    socket.on('end', () => socket.end(`${label}:${hash.digest('hex')}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (server: tls.Server): number => (server.address() as { port: number }).port;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('controller-assigned SNI names, through the shared port to the on-prem TLS target', () => {
  let world: ControllerWorld;
  let berlinPki: SandboxPki;
  let parisPki: SandboxPki;
  const targets: tls.Server[] = [];
  const apps: (ForwarderTwinApp | GatewayTwinApp)[] = [];
  let pool: PoolSettings;

  beforeAll(async () => {
    world = await startControllerWorld();
    // Two ways to cover the names: a wildcard certificate for all of a location's services, or one per name.
    berlinPki = await generateSandboxPki([`*.berlin.${ZONE}`]);
    parisPki = await generateSandboxPki([`web.paris.${ZONE}`]);
    targets.push(await startTlsTarget(berlinPki, 'berlin-web'));
    targets.push(await startTlsTarget(berlinPki, 'berlin-api'));
    targets.push(await startTlsTarget(parisPki, 'paris-web'));
  });

  afterAll(async () => {
    for (const app of apps) if ('hurry' in app) app.hurry();
    await Promise.all(apps.map((a) => a.stop(0)));
    await world?.close();
    for (const t of targets) t.close();
  });

  /** A verified TLS connection to the shared port with `servername`; sends, ends, returns the answer. */
  async function throughName(servername: string, ca: string, payload: Buffer) {
    const socket = tls.connect({ port: pool.sni!.port, host: '127.0.0.1', servername, ca });
    try {
      await once(socket, 'secureConnect');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.end(payload);
      await once(socket, 'end');
      return { authorized: socket.authorized, answer: Buffer.concat(chunks).toString() };
    } finally {
      socket.destroy();
    }
  }

  it('assigns the names, writes them into the gateway twin, and every byte reaches the right target', async () => {
    // Single free ports, not a run of them: a busy machine may have few consecutive ones.
    const first = await freePortRange(1);
    let sniPort = await freePortRange(1);
    while (sniPort === first) sniPort = await freePortRange(1);
    pool = {
      name: 'site',
      firstPort: first,
      lastPort: first,
      allow: ['127.0.0.0/8'],
      bindAddress: '127.0.0.1',
      sni: { port: sniPort, zone: ZONE },
    };
    await world.addGateway('gw-1', 'site');
    await world.addLocation(
      'berlin',
      {
        web: { target: `127.0.0.1:${portOf(targets[0]!)}`, expose: 'name' },
        api: { target: `127.0.0.1:${portOf(targets[1]!)}`, expose: 'both' },
      },
      { pool: 'site' },
    );
    await world.addLocation(
      'paris',
      { web: { target: `127.0.0.1:${portOf(targets[2]!)}`, expose: 'name' } },
      { pool: 'site' },
    );
    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    const forwarders = ['berlin', 'paris'].map((id) => startTwinForwarder(world, id, log));
    apps.push(...forwarders);
    const gateway = await startTwinGateway(world, 'gw-1', log);
    apps.push(gateway);

    const controller = world.startController({ pools: [DEFAULT_POOL, pool] });
    expect(await controller.reconcileNow()).toMatchObject({ outcome: 'converged', actionsFailed: 0 });

    const berlin = (await world.tags('berlin')).relayStatus as JsonObject;
    expect(berlin).toMatchObject({
      state: 'ok',
      ports: { api: first },
      names: { api: `api.berlin.${ZONE}`, web: `web.berlin.${ZONE}` },
      sniPort,
    });
    expect(((await world.tags('paris')).relayStatus as JsonObject).names).toEqual({
      web: `web.paris.${ZONE}`,
    });
    const routes = (await world.desired('gw-1', 'relay-gateway')).routes as Record<string, JsonObject>;
    expect(Object.keys(routes).sort()).toEqual(['berlin_api', 'hrf-sni']);
    const hosts = (routes['hrf-sni']!.sni as { hosts: Record<string, JsonObject> }).hosts;
    expect(Object.values(hosts).map((h) => h.name)).toEqual([
      `api.berlin.${ZONE}`,
      `web.berlin.${ZONE}`,
      `web.paris.${ZONE}`,
    ]);

    await waitFor(
      () => gateway.gateway.state().routes['hrf-sni']?.status === 'listening',
      'the SNI route to listen',
      30_000,
    );
    for (const [i, id] of ['berlin', 'paris'].entries())
      await waitFor(
        () => forwarders[i]!.forwarder.state().hybridConnections[`hrf-${id}`]?.onlineListeners === 2,
        `${id} listeners online`,
        30_000,
      );

    const cases: [string, SandboxPki, string][] = [
      [`web.berlin.${ZONE}`, berlinPki, 'berlin-web'],
      [`api.berlin.${ZONE}`, berlinPki, 'berlin-api'],
      [`web.paris.${ZONE}`, parisPki, 'paris-web'],
    ];
    for (const [name, pki, label] of cases) {
      const payload = patternBytes(256 * 1024, name.length);
      const result = await throughName(name, pki.caPem, payload);
      expect(result).toEqual({ authorized: true, answer: `${label}:${sha(payload)}` });
    }
  }, 120_000);

  it('refuses a name the controller did not assign, before any relay connection', async () => {
    const refused: string[] = [];
    const gateway = apps.find((a): a is GatewayTwinApp => 'gateway' in a)!;
    const onRefused = (e: { reason: string }) => refused.push(e.reason);
    let tunnels = 0;
    const onConnection = () => (tunnels += 1);
    gateway.gateway.on('refused', onRefused);
    gateway.gateway.on('connection', onConnection);
    try {
      const socket = tls.connect({
        port: pool.sni!.port,
        host: '127.0.0.1',
        servername: `db.berlin.${ZONE}`,
        ca: berlinPki.caPem,
      });
      const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
      socket.destroy();
      expect(err.code).toBe('ECONNRESET');
      await waitFor(() => refused.includes('sni-unknown'), 'the sni-unknown refusal', 10_000);
      expect(tunnels).toBe(0);
    } finally {
      gateway.gateway.off('refused', onRefused);
      gateway.gateway.off('connection', onConnection);
    }
  });
});
