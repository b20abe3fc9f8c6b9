// /healthz and /readyz of both modules over real HTTP, across the things a load balancer must see: no configuration
// yet, a refused configuration (the last good one keeps serving), a route whose port is taken, a relay outage and
// its end, credentials the relay refuses, and shutdown.
import * as http from 'node:http';
import * as net from 'node:net';
import { startHealthServer, type HealthServer } from '../../modules/common/src/health/health-server';
import type { NotReadyReason } from '../../modules/common/src/health/readiness';
import { ATTR } from '../../modules/common/src/telemetry/instruments';
import { ForwarderReadiness } from '../../modules/relay-forwarder/src/readiness';
import { GatewayReadiness } from '../../modules/relay-gateway/src/readiness';
import {
  EMPTY,
  forwarderOnline,
  LOCATION,
  route,
  SITE,
  startObservabilityWorld,
  type ObservabilityWorld,
} from '../support/observability-world';
import { connectClient } from '../support/relay-gateway-harness';

interface Probe {
  readonly status: number;
  readonly body: { status: string; reasons?: NotReadyReason[] };
}

function get(server: HealthServer, path: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

const codes = (probe: Probe): string[] => (probe.body.reasons ?? []).map((r) => r.code);

/** Polls a probe until `accept` holds (bounded), then returns the last answer. */
async function probeUntil(
  server: HealthServer,
  accept: (p: Probe) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  let last = await get(server, '/readyz');
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
    last = await get(server, '/readyz');
  }
  return last;
}

describe('health endpoints of both modules (sandbox relay, TLS)', () => {
  let world: ObservabilityWorld;
  let gatewayReadiness: GatewayReadiness;
  let forwarderReadiness: ForwarderReadiness;
  let gatewayHealth: HealthServer;
  let forwarderHealth: HealthServer;
  const forwarderReports: string[][] = [];
  let services: Record<string, unknown>;

  beforeAll(async () => {
    world = await startObservabilityWorld({ fastReconnect: true });
    gatewayReadiness = new GatewayReadiness();
    forwarderReadiness = new ForwarderReadiness();
    gatewayReadiness.attach(world.gateway);
    forwarderReadiness.attach(world.forwarder);
    forwarderReadiness.onChange((reasons) => forwarderReports.push(reasons.map((r) => r.code)));
    gatewayHealth = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      readiness: gatewayReadiness.check,
    });
    forwarderHealth = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      readiness: forwarderReadiness.check,
    });
    services = { echo: { target: `127.0.0.1:${world.echo.port}` } };
  });

  afterAll(async () => {
    gatewayReadiness?.close();
    forwarderReadiness?.close();
    await gatewayHealth?.close();
    await forwarderHealth?.close();
    await world?.close();
  });

  it('is alive at once and not ready until a configuration runs', async () => {
    for (const server of [gatewayHealth, forwarderHealth]) {
      expect(await get(server, '/healthz')).toEqual({ status: 200, body: { status: 'alive' } });
      const ready = await get(server, '/readyz');
      expect(ready.status).toBe(503);
      expect(codes(ready)).toEqual(['no_configuration']);
    }
  });

  it('becomes ready with a good configuration and stays ready when a bad one is refused', async () => {
    expect(world.forwarder.applyDocument(world.forwarderDocument(services)).ok).toBe(true);
    expect((await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo') }))).ok).toBe(true);
    await forwarderOnline(world.forwarder);
    expect(await get(forwarderHealth, '/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', reasons: [] },
    });
    expect(await get(gatewayHealth, '/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', reasons: [] },
    });

    expect(world.forwarder.applyDocument({ schemaVersion: 1, hybridConnections: 7 }).ok).toBe(false);
    expect((await world.gateway.applyDocument({ schemaVersion: 1, routes: 'x' })).ok).toBe(false);
    expect((await get(forwarderHealth, '/readyz')).status).toBe(200);
    expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
    const client = await connectClient(world.port('echo'));
    client.socket.end('still serving');
    expect((await client.ended).received.toString()).toBe('still serving');
  });

  it('stays ready when one route cannot listen (the route says why); not ready only when no route can', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const applied = await world.gateway.applyDocument(
        world.gatewayDocument({ echo: route('echo'), web: route('echo', { port: taken }) }),
      );
      expect(applied).toMatchObject({ ok: true, refusedRoutes: ['web'] });
      // Every gateway of a pool carries the same routes: one unbindable port must not empty the pool.
      expect(await get(gatewayHealth, '/readyz')).toEqual({
        status: 200,
        body: { status: 'ready', reasons: [] },
      });
      expect(world.gateway.state().routes.web).toMatchObject({
        status: 'refused',
        error: { code: 'PORT_IN_USE' },
      });
      // With no route able to listen this instance accepts nobody.
      await world.gateway.applyDocument(world.gatewayDocument({ web: route('echo', { port: taken }) }));
      const probe = await get(gatewayHealth, '/readyz');
      expect(probe.status).toBe(503);
      expect(codes(probe)).toEqual(['not_accepting']);
      // A disabled route is not expected to listen.
      await world.gateway.applyDocument(
        world.gatewayDocument({ echo: route('echo'), web: route('echo', { port: taken, enabled: false }) }),
      );
      expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo') }));
    expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
  });

  it('reports a relay outage on both sides and recovers when the relay is back', async () => {
    const reconnectsBefore = (await world.forwarderMetrics.collect()).value('listenerReconnects');
    const reportsBefore = forwarderReports.length;
    await world.stopRelay();
    const forwarderDown = await probeUntil(forwarderHealth, (p) => p.status === 503, 'forwarder not ready');
    expect(codes(forwarderDown)).toEqual(['listeners_offline']);
    expect(forwarderDown.body.reasons![0]!.message).toContain(SITE);

    // The gateway learns of the outage from its clients' tunnel attempts: three network failures in a row.
    expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const client = await connectClient(world.port('echo'));
      client.socket.end('x');
      expect((await client.ended).received.length).toBe(0);
    }
    const gatewayDown = await get(gatewayHealth, '/readyz');
    expect(gatewayDown.status).toBe(503);
    expect(codes(gatewayDown)).toEqual(['relay_unreachable']);
    expect(gatewayDown.body.reasons![0]!.message).toBe(
      `relay unreachable from this instance: ${world.relay.namespace} (3 failures in a row, last RELAY_NETWORK)`,
    );

    await world.startRelay();
    await probeUntil(forwarderHealth, (p) => p.status === 200, 'forwarder ready again');
    await forwarderOnline(world.forwarder);
    const f = await world.forwarderMetrics.collect();
    expect(f.value('listenerReconnects', { [ATTR.location]: LOCATION }) - reconnectsBefore).toBe(2);
    expect(f.value('listenersOnline', { [ATTR.hybridConnection]: SITE })).toBe(2);
    // The next client proves the relay reachable again.
    const again = await connectClient(world.port('echo'));
    again.socket.end('back');
    expect((await again.ended).received.toString()).toBe('back');
    expect(await get(gatewayHealth, '/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', reasons: [] },
    });
    // What the twin reports (ForwarderReadiness.onChange) followed the same path.
    const reported = forwarderReports.slice(reportsBefore).map((r) => r.join(','));
    expect(reported.filter((r, i) => r !== reported[i - 1])).toEqual(['listeners_offline', '']);
  });

  it('stays ready when a credential is refused; the route reports the fault until a tunnel opens', async () => {
    const badKey = world.sendConnectionString[SITE]!.replace(
      /SharedAccessKey=[^;]+/,
      'SharedAccessKey=d3Jvbmc=',
    );
    const document = {
      schemaVersion: 1,
      hybridConnections: {
        [SITE]: { connectionString: world.sendConnectionString[SITE] },
        [EMPTY]: { connectionString: badKey },
      },
      routes: { echo: route('echo'), locked: route('echo', { hybridConnection: EMPTY }) },
    };
    try {
      expect((await world.gateway.applyDocument(document)).ok).toBe(true);
      for (let i = 0; i < 5; i++) {
        const client = await connectClient(world.port('locked'));
        client.socket.end('x');
        await client.ended;
      }
      // A revoked token is one location's fault: the pool keeps serving every other route through this gateway.
      expect(await get(gatewayHealth, '/readyz')).toEqual({
        status: 200,
        body: { status: 'ready', reasons: [] },
      });
      expect(world.gateway.state().routes.locked!.relayFault).toMatchObject({
        reason: 'unauthorized',
        code: 'RELAY_UNAUTHORIZED',
      });
      expect(world.gateway.state().routes.locked!.counters.failed).toEqual({ unauthorized: 5 });
      expect(world.gateway.state().routes.echo!.relayFault).toBeUndefined();
    } finally {
      await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo') }));
    }
  });

  it('is not ready within seconds when the relay is black-holed (accepts TCP, never answers)', async () => {
    const held: net.Socket[] = [];
    const blackHole = net.createServer((socket) => {
      socket.on('error', () => undefined);
      held.push(socket);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const hole = `127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`;
    const silent = world.sendConnectionString[SITE]!.replace(
      /Endpoint=sb:\/\/[^/;]+/,
      `Endpoint=sb://${hole}`,
    );
    const clients: Array<Awaited<ReturnType<typeof connectClient>>> = [];
    try {
      const applied = await world.gateway.applyDocument({
        schemaVersion: 1,
        hybridConnections: { [SITE]: { connectionString: silent } },
        // A connect timeout far beyond the wait below: readiness must not wait for it.
        routes: { echo: route('echo', { connectTimeoutMs: 120_000 }) },
      });
      expect(applied.ok).toBe(true);
      expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
      for (let i = 0; i < 3; i++) clients.push(await connectClient(world.port('echo')));
      const down = await probeUntil(gatewayHealth, (p) => p.status === 503, 'gateway not ready', 20_000);
      expect(codes(down)).toEqual(['relay_unreachable']);
      expect(down.body.reasons![0]!.message).toContain(`${hole} (3 failures in a row, last RELAY_STALLED)`);
    } finally {
      for (const client of clients) client.socket.destroy();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
      await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo') }));
    }
    // A new endpoint is a fresh start; and once clients are served again the evidence is an answer.
    const again = await connectClient(world.port('echo'));
    again.socket.end('back');
    expect((await again.ended).received.toString()).toBe('back');
    expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
  });

  it('is not ready once shutting down', async () => {
    gatewayReadiness.shuttingDown();
    forwarderReadiness.shuttingDown();
    for (const server of [gatewayHealth, forwarderHealth]) {
      const probe = await get(server, '/readyz');
      expect(probe.status).toBe(503);
      expect(codes(probe)).toEqual(['shutting_down']);
      expect((await get(server, '/healthz')).status).toBe(200);
    }
  });
});
