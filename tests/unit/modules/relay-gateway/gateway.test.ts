import { once } from 'node:events';
import * as net from 'node:net';
import { RelayError } from '../../../../modules/common/src/hc/errors';
import { TunnelError } from '../../../../modules/common/src/tunnel/errors';
import { Gateway } from '../../../../modules/relay-gateway/src/gateway';
import type { TunnelFailedEvent } from '../../../../modules/relay-gateway/src/events';
import {
  ScriptedOpener,
  connectClient,
  eventually,
  freePort,
  gatewayDocument,
  loopbackRoute,
  roundTrip,
  routePort,
  testLogger,
} from '../../../support/relay-gateway-harness';

describe('Gateway (scripted relay)', () => {
  let opener: ScriptedOpener;
  let gateway: Gateway;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeEach(() => {
    opener = new ScriptedOpener();
    gateway = new Gateway({ opener: opener.open, logger: testLogger() });
  });

  afterEach(async () => {
    gateway.closeAllConnections();
    await gateway.stop(0);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function applyOk(document: object): Promise<void> {
    const result = await gateway.applyDocument(document);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
  }

  it('tunnels a client through its route and counts it', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const end = await roundTrip(routePort(gateway, 'web'), 'hello');
    expect(end).toEqual({ received: Buffer.from('hello') });
    expect(opener.requests.map((r) => [r.routeId, r.service, r.hybridConnection.path])).toEqual([
      ['web', 'svc', 'hc'],
    ]);
    await eventually(() => gateway.state().routes.web!.counters.active === 0, 'the session to end');
    expect(gateway.state().routes.web!.counters).toEqual({
      accepted: 1,
      refused: {},
      failed: {},
      tunneled: 1,
      broken: {},
      active: 0,
      bytesFromClients: 5,
      bytesToClients: 5,
    });
  });

  it('resets a client outside the allow-list without opening a tunnel', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute({ allow: ['10.0.0.0/8', '::1/128'] }) }));
    const refused = once(gateway, 'refused');
    const client = await connectClient(routePort(gateway, 'web'));
    const end = await client.ended;
    expect(end.errorCode).toBe('ECONNRESET');
    expect(await refused).toEqual([{ routeId: 'web', remoteAddress: '127.0.0.1', reason: 'not-allowed' }]);
    expect(opener.requests).toHaveLength(0);
    expect(gateway.state().routes.web!.counters.refused).toEqual({ 'not-allowed': 1 });
  });

  it('refuses clients beyond the route limit and beyond the global limit', async () => {
    opener.default = 'hang';
    await applyOk(
      gatewayDocument(
        {
          one: loopbackRoute({ maxConnections: 1, connectTimeoutMs: 60000 }),
          two: loopbackRoute({ connectTimeoutMs: 60000 }),
        },
        { limits: { maxConnections: 2 } },
      ),
    );
    const first = await connectClient(routePort(gateway, 'one'));
    await eventually(() => opener.requests.length === 1, 'the first tunnel request');
    const second = await connectClient(routePort(gateway, 'one'));
    expect((await second.ended).errorCode).toBe('ECONNRESET');
    const third = await connectClient(routePort(gateway, 'two'));
    await eventually(() => opener.requests.length === 2, 'the second tunnel request');
    const fourth = await connectClient(routePort(gateway, 'two'));
    expect((await fourth.ended).errorCode).toBe('ECONNRESET');
    const state = gateway.state();
    expect(state.routes.one!.counters.refused).toEqual({ 'route-limit': 1 });
    expect(state.routes.two!.counters.refused).toEqual({ 'global-limit': 1 });
    expect(state.activeConnections).toBe(2);
    // A reset is noticed at once; a FIN would wait for the tunnel (it may be a half-close after a request).
    first.socket.resetAndDestroy();
    third.socket.resetAndDestroy();
    await eventually(() => gateway.state().activeConnections === 0, 'the slots to be released');
  });

  it.each([
    ['404', new RelayError('RELAY_NO_LISTENER', 'no listener', true, 404), 'no-listener'],
    ['401', new RelayError('RELAY_UNAUTHORIZED', 'bad token', false, 401), 'unauthorized'],
    ['403', new RelayError('RELAY_FORBIDDEN', 'no Send claim', false, 403), 'forbidden'],
    ['close 4502', new TunnelError('TUNNEL_TARGET_REFUSED', 'refused', true, 4502), 'target-refused'],
    ['close 4504', new TunnelError('TUNNEL_TARGET_TIMEOUT', 'timed out', true, 4504), 'target-timeout'],
    ['close 4404', new TunnelError('TUNNEL_UNKNOWN_SERVICE', 'unknown', false, 4404), 'unknown-service'],
  ])('closes the client at once and records why the tunnel failed (%s)', async (_label, error, reason) => {
    opener.default = { fail: error };
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const failed = once(gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    const client = await connectClient(routePort(gateway, 'web'));
    expect((await client.ended).errorCode).toBe('ECONNRESET');
    const [event] = await failed;
    expect(event).toMatchObject({ routeId: 'web', reason, error });
    expect(event.connectionId).toBe(opener.requests[0]!.connectionId);
    expect(gateway.state().routes.web!.counters.failed).toEqual({ [reason]: 1 });
  });

  it.each([
    ['the relay never answered', 'hang', 'relay-timeout'],
    ['the relay answered, the forwarder did not', 'relay-then-hang', 'connect-timeout'],
  ] as const)('gives up after the connect timeout (%s)', async (_label, script, reason) => {
    opener.default = script;
    await applyOk(gatewayDocument({ web: loopbackRoute({ connectTimeoutMs: 100 }) }));
    const client = await connectClient(routePort(gateway, 'web'));
    expect((await client.ended).errorCode).toBe('ECONNRESET');
    await eventually(() => gateway.state().routes.web!.counters.active === 0, 'the session to end');
    expect(gateway.state().routes.web!.counters.failed).toEqual({ [reason]: 1 });
    expect(opener.requests[0]!.signal.aborted).toBe(true);
  });

  it('aborts the tunnel open when the client leaves first', async () => {
    opener.default = 'hang';
    await applyOk(gatewayDocument({ web: loopbackRoute({ connectTimeoutMs: 60000 }) }));
    const client = await connectClient(routePort(gateway, 'web'));
    await eventually(() => opener.requests.length === 1, 'the tunnel request');
    client.socket.resetAndDestroy();
    await eventually(() => opener.requests[0]!.signal.aborted, 'the open to be aborted');
    await eventually(() => gateway.state().routes.web!.counters.failed['client-closed'] === 1, 'the count');
  });

  it('refuses only the route whose port is taken on the host, and retries it on the next apply', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const takenPort = (blocker.address() as net.AddressInfo).port;
    const document = gatewayDocument({ taken: loopbackRoute({ port: takenPort }), free: loopbackRoute() });

    const result = await gateway.applyDocument(document);
    expect(result).toMatchObject({ ok: true, refusedRoutes: ['taken'] });
    const state = gateway.state().routes;
    expect(state.taken).toMatchObject({
      status: 'refused',
      error: { code: 'PORT_IN_USE', message: `127.0.0.1:${takenPort} is already in use on this host` },
    });
    expect(state.free!.status).toBe('listening');
    expect((await roundTrip(routePort(gateway, 'free'), 'x')).received.toString()).toBe('x');

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(await gateway.applyDocument(document)).toMatchObject({ ok: true, refusedRoutes: [] });
    expect(routePort(gateway, 'taken')).toBe(takenPort);
  });

  it('refuses an invalid document with every problem and keeps the running configuration', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const port = routePort(gateway, 'web');
    const live = await connectClient(port);
    live.socket.write('before ');

    const result = await gateway.applyDocument(
      gatewayDocument({
        web: loopbackRoute({ hybridConnection: 'nope' }),
        bad: loopbackRoute({ allow: ['1.2.3.4/40'] }),
      }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems.map((p) => p.path)).toEqual([
        '/routes/bad/allow/0',
        '/routes/web/hybridConnection',
      ]);
    expect(gateway.state().lastRejection?.problems).toHaveLength(2);
    expect(routePort(gateway, 'web')).toBe(port);

    live.socket.end('after');
    expect((await live.ended).received.toString()).toBe('before after');
  });

  it('applies only what differs: unchanged routes keep their socket and connections', async () => {
    const movedFrom = await freePort();
    const movedTo = await freePort();
    await applyOk(
      gatewayDocument(
        { keep: loopbackRoute(), gone: loopbackRoute(), moved: loopbackRoute({ port: movedFrom }) },
        { drainTimeoutMs: 60000 },
      ),
    );
    const keepPort = routePort(gateway, 'keep');
    const goneClient = await connectClient(routePort(gateway, 'gone'));
    const keepClient = await connectClient(keepPort);
    const movedClient = await connectClient(movedFrom);
    for (const c of [goneClient, keepClient, movedClient]) c.socket.write('1');
    await eventually(
      () => gateway.state().activeConnections === 3 && opener.requests.length === 3,
      'three tunnels',
    );

    const result = await gateway.applyDocument(
      gatewayDocument(
        { keep: loopbackRoute(), moved: loopbackRoute({ port: movedTo }), added: loopbackRoute() },
        { drainTimeoutMs: 60000 },
      ),
    );
    expect(result).toMatchObject({
      ok: true,
      diff: { routesAdded: ['added'], routesRemoved: ['gone'], routesUnchanged: ['keep'] },
    });
    const state = gateway.state();
    expect(state.routes.keep!.boundPort).toBe(keepPort);
    expect(state.routes.moved!.boundPort).toBe(movedTo);
    expect(state.draining.map((r) => [r.id, r.status, r.counters.active])).toEqual([['gone', 'draining', 1]]);
    // The old port of a moved route and the port of a removed one stop accepting.
    expect((await (await connectClient(movedFrom)).ended).errorCode).toBe('ECONNREFUSED');
    expect((await roundTrip(movedTo, 'new')).received.toString()).toBe('new');
    expect((await roundTrip(routePort(gateway, 'added'), 'add')).received.toString()).toBe('add');

    // Every live connection, on whichever route, carries on.
    for (const c of [goneClient, keepClient, movedClient]) c.socket.end('2');
    for (const c of [goneClient, keepClient, movedClient])
      expect((await c.ended).received.toString()).toBe('12');
    await eventually(() => gateway.state().draining.length === 0, 'the removed route to finish draining');
  });

  it('closes what is left of a removed route after the drain time', async () => {
    await applyOk(gatewayDocument({ gone: loopbackRoute() }, { drainTimeoutMs: 50 }));
    const client = await connectClient(routePort(gateway, 'gone'));
    client.socket.write('x');
    await eventually(() => gateway.state().routes.gone?.counters.tunneled === 1, 'the tunnel');
    await eventually(() => client.received().length === 1, 'the echo');
    await applyOk(gatewayDocument({}, { drainTimeoutMs: 50 }));
    expect(await client.ended).toEqual({ received: Buffer.from('x'), errorCode: 'ECONNRESET' });
    await eventually(() => gateway.state().draining.length === 0, 'the drain to finish');
  });

  it('sends new tunnels with new credentials while live tunnels keep going', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const live = await connectClient(routePort(gateway, 'web'));
    live.socket.write('a');
    await eventually(() => opener.requests.length === 1, 'the first tunnel');
    const renewed = {
      ...gatewayDocument({ web: loopbackRoute() }),
      hybridConnections: {
        hc: {
          connectionString:
            'Endpoint=sb://ns.example/;SharedAccessKeyName=send;SharedAccessKey=k2;EntityPath=hc',
        },
      },
    };
    const result = await gateway.applyDocument(renewed);
    expect(result).toMatchObject({
      ok: true,
      diff: { credentialsChanged: ['hc'], routesUnchanged: ['web'] },
    });
    await roundTrip(routePort(gateway, 'web'), 'b');
    const keys = opener.requests.map((r) => (r.hybridConnection.credential as { key: string }).key);
    expect(keys).toEqual(['k1', 'k2']);
    live.socket.end('c');
    expect((await live.ended).received.toString()).toBe('ac');
  });

  it('closes live connections that a tightened allow-list no longer admits', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const live = await connectClient(routePort(gateway, 'web'));
    live.socket.write('a');
    await eventually(() => live.received().length === 1, 'the echo');
    await applyOk(gatewayDocument({ web: loopbackRoute({ allow: ['10.0.0.0/8'] }) }));
    const end = await live.ended;
    expect(end).toEqual({ received: Buffer.from('a'), errorCode: 'ECONNRESET' });
    await eventually(() => gateway.state().routes.web!.counters.broken['not-allowed'] === 1, 'the count');
  });

  it('disables and re-enables a route', async () => {
    const port = await freePort();
    await applyOk(gatewayDocument({ web: loopbackRoute({ port }) }));
    await applyOk(gatewayDocument({ web: loopbackRoute({ port, enabled: false }) }));
    expect(gateway.state().routes.web!.status).toBe('disabled');
    expect((await (await connectClient(port)).ended).errorCode).toBe('ECONNREFUSED');
    await applyOk(gatewayDocument({ web: loopbackRoute({ port }) }));
    expect((await roundTrip(port, 'back')).received.toString()).toBe('back');
  });

  it('stops: ports close, live connections drain, then the rest are closed', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const port = routePort(gateway, 'web');
    const client = await connectClient(port);
    client.socket.write('x');
    await eventually(() => client.received().length === 1, 'the echo');
    await gateway.stop(50);
    expect(await client.ended).toEqual({ received: Buffer.from('x'), errorCode: 'ECONNRESET' });
    expect(gateway.state()).toMatchObject({ stopping: true, routes: {}, activeConnections: 0 });
    expect((await (await connectClient(port)).ended).errorCode).toBe('ECONNREFUSED');
  });

  it('closes every connection at once when asked while a stop drains', async () => {
    await applyOk(gatewayDocument({ web: loopbackRoute() }));
    const client = await connectClient(routePort(gateway, 'web'));
    client.socket.write('x');
    await eventually(() => client.received().length === 1, 'the echo');
    const stopping = gateway.stop(60_000);
    await eventually(() => gateway.state().draining.length === 1, 'the route to drain');
    gateway.closeAllConnections();
    await stopping;
    expect(await client.ended).toEqual({ received: Buffer.from('x'), errorCode: 'ECONNRESET' });
    await eventually(() => gateway.state().draining.length === 0, 'the drain to finish');
  });
});
