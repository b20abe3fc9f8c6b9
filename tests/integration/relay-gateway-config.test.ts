// relay-gateway run from a config file against the sandbox relay (TLS): file changes apply only what differs
// while an untouched transfer continues, port conflicts, invalid documents, renewed tokens.
import { once } from 'node:events';
import { utimes } from 'node:fs/promises';
import * as net from 'node:net';
import type { GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import type { GatewayEvents } from '../../modules/relay-gateway/src/events';
import {
  connectClient,
  eventually,
  freePort,
  routePort,
  type TestClient,
} from '../support/relay-gateway-harness';
import { startGatewayWorld, type GatewayWorld } from '../support/relay-gateway-world';
import { patternBytes, sha256 } from '../support/tunnel-harness';

type Applied = GatewayEvents['applied'][0];
type Rejected = GatewayEvents['rejected'][0];

describe('relay-gateway configuration file (sandbox relay, TLS)', () => {
  let world: GatewayWorld;
  let app: GatewayFileApp | undefined;

  const route = (service: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'siteA',
    service,
    allow: ['127.0.0.0/8'],
    ...more,
  });
  const doc = (routes: Record<string, unknown>, hc?: Record<string, unknown>): Record<string, unknown> => ({
    schemaVersion: 1,
    drainTimeoutMs: 60_000,
    hybridConnections: { siteA: hc ?? { connectionString: world.sendConnectionString } },
    routes,
  });

  beforeEach(async () => {
    world = await startGatewayWorld();
  });

  afterEach(async () => {
    app = undefined;
    await world.close();
  });

  async function start(document: unknown): Promise<GatewayFileApp> {
    await world.writeConfig(document);
    app = await world.startGateway();
    return app;
  }

  /** Rewrites the file and waits for the gateway's verdict on it. */
  async function rewrite(document: unknown): Promise<Applied | Rejected> {
    const gateway = app!.gateway;
    const verdict = Promise.race([
      once(gateway, 'applied').then(([e]) => e as Applied),
      once(gateway, 'rejected').then(([e]) => e as Rejected),
    ]);
    if (typeof document === 'string') await world.writeConfigText(document);
    else await world.writeConfig(document);
    return verdict;
  }

  async function writeInChunks(client: TestClient, data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += 256 * 1024) {
      if (!client.socket.write(data.subarray(offset, offset + 256 * 1024)))
        await once(client.socket, 'drain');
    }
  }

  async function echoes(port: number, text: string): Promise<boolean> {
    const client = await connectClient(port);
    client.socket.end(text);
    const end = await client.ended;
    return end.errorCode === undefined && end.received.toString() === text;
  }

  async function refusedConnect(port: number): Promise<string | undefined> {
    return (await (await connectClient(port)).ended).errorCode;
  }

  it('adds, removes and changes routes while a transfer on an untouched route continues (sha256)', async () => {
    const [changeFrom, changeTo] = [await freePort(), await freePort()];
    await start(
      doc({ stay: route('sink'), gone: route('echo'), change: route('echo', { port: changeFrom }) }),
    );
    const gateway = app!.gateway;
    const stayPort = routePort(gateway, 'stay');
    const gonePort = routePort(gateway, 'gone');

    const payload = patternBytes(24 * 1024 * 1024, 11);
    const transfer = await connectClient(stayPort);
    await writeInChunks(transfer, payload.subarray(0, payload.length / 2));
    const goneLive = await connectClient(gonePort);
    goneLive.socket.write('still ');
    await eventually(() => goneLive.received().length === 6, 'the removed route to echo');

    const verdict = await rewrite(
      doc({ stay: route('sink'), change: route('sink', { port: changeTo }), added: route('echo') }),
    );
    expect(verdict).toMatchObject({
      diff: {
        routesAdded: ['added'],
        routesRemoved: ['gone'],
        routesUnchanged: ['stay'],
        routesChanged: [{ id: 'change', fields: ['port', 'service'], rebind: true }],
      },
      refusedRoutes: [],
    });
    expect(routePort(gateway, 'stay')).toBe(stayPort);
    expect(await echoes(routePort(gateway, 'added'), 'new route')).toBe(true);
    expect(await refusedConnect(gonePort)).toBe('ECONNREFUSED');
    expect(await refusedConnect(changeFrom)).toBe('ECONNREFUSED');
    const changed = await connectClient(changeTo);
    changed.socket.end('abc');
    expect((await changed.ended).received.toString()).toBe(sha256(Buffer.from('abc')));

    // The removed route drains: its live connection still works.
    goneLive.socket.end('here');
    expect((await goneLive.ended).received.toString()).toBe('still here');

    await writeInChunks(transfer, payload.subarray(payload.length / 2));
    transfer.socket.end();
    const end = await transfer.ended;
    expect(end.errorCode).toBeUndefined();
    expect(end.received.toString()).toBe(sha256(payload));
    await eventually(() => gateway.state().draining.length === 0, 'the removed route to finish draining');
  });

  it('refuses two routes on one port, naming both, and keeps the running configuration', async () => {
    const shared = await freePort();
    await start(doc({ echo: route('echo') }));
    const live = await connectClient(routePort(app!.gateway, 'echo'));
    live.socket.write('a');

    const verdict = await rewrite(
      doc({
        echo: route('echo'),
        first: route('echo', { port: shared }),
        second: route('sink', { port: shared }),
      }),
    );
    expect(verdict).toEqual({
      problems: [
        {
          path: '/routes/second/port',
          message: `port conflict: routes "first" (127.0.0.1:${shared}) and "second" (127.0.0.1:${shared}) cannot both listen`,
        },
      ],
    });
    expect(Object.keys(app!.gateway.state().routes)).toEqual(['echo']);
    expect(app!.gateway.state().lastRejection?.problems).toHaveLength(1);
    live.socket.end('b');
    expect((await live.ended).received.toString()).toBe('ab');
  });

  it('refuses only a route whose port is taken on the host, and retries it when the file is touched', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    await start(doc({ echo: route('echo'), blocked: route('echo', { port: taken }) }));
    const state = app!.gateway.state().routes;
    expect(state.blocked).toMatchObject({ status: 'refused', error: { code: 'PORT_IN_USE' } });
    expect(await echoes(routePort(app!.gateway, 'echo'), 'unaffected')).toBe(true);

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const applied = once(app!.gateway, 'applied');
    const later = new Date(Date.now() + 10_000);
    await utimes(world.configPath, later, later);
    expect(await applied).toEqual([expect.objectContaining({ refusedRoutes: [] })]);
    expect(await echoes(taken, 'now listening')).toBe(true);
  });

  it('keeps the last good configuration when the file is broken or invalid, and says why', async () => {
    await start(doc({ echo: route('echo') }));
    const port = routePort(app!.gateway, 'echo');
    const live = await connectClient(port);
    live.socket.write('1');

    const broken = await rewrite('{\n  "schemaVersion": 1,\n  "routes": {\n}');
    expect(broken).toEqual({
      problems: [{ path: '', message: expect.stringContaining('invalid JSON at line 4, column 2') }],
    });
    const invalid = await rewrite({ ...doc({ echo: route('echo', { allow: ['10.0.0.1/8'] }) }), extra: 1 });
    expect('problems' in invalid && invalid.problems.map((p) => p.path)).toEqual([
      '',
      '/routes/echo/allow/0',
    ]);

    expect(routePort(app!.gateway, 'echo')).toBe(port);
    expect(await echoes(port, 'still served')).toBe(true);
    live.socket.end('2');
    expect((await live.ended).received.toString()).toBe('12');
  });

  it('uses a renewed pre-issued token for new tunnels while live tunnels keep going', async () => {
    const tokenHc = (token: string) => ({
      namespace: world.relay.namespace,
      path: 'site-a',
      sasToken: token,
    });
    // Without warm or multiplexed connections: one opened before the key changed would still carry a client (like
    // a live tunnel, it was authorized when it was opened); this test is about new handshakes.
    await start(
      doc(
        { echo: route('echo', { warmConnections: 0, multiplex: false }) },
        tokenHc(world.sendToken(60_000)),
      ),
    );
    const port = routePort(app!.gateway, 'echo');
    const live = await connectClient(port);
    live.socket.write('old ');
    await eventually(() => live.received().length === 4, 'the first echo');

    // A new key invalidates the running token for new handshakes only: the live tunnel is not affected.
    world.relay.regenerateKey('site-a', 'send', 'PrimaryKey');
    const refused = await connectClient(port);
    expect((await refused.ended).errorCode).toBe('ECONNRESET');
    expect(app!.gateway.state().routes.echo!.counters.failed).toEqual({ unauthorized: 1 });

    const verdict = await rewrite(
      doc(
        { echo: route('echo', { warmConnections: 0, multiplex: false }) },
        tokenHc(world.sendToken(120_000)),
      ),
    );
    expect(verdict).toMatchObject({ diff: { credentialsChanged: ['siteA'], routesUnchanged: ['echo'] } });
    expect(await echoes(port, 'new token')).toBe(true);
    live.socket.end('tunnel');
    expect((await live.ended).received.toString()).toBe('old tunnel');
  });
});
