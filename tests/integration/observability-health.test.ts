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
import { connectClient, eventually } from '../support/relay-gateway-harness';

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
async function probeUntil(server: HealthServer, accept: (p: Probe) => boolean, what: string): Promise<Probe> {
  const deadline = Date.now() + 10_000;
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

  it('is not ready while an enabled route cannot listen, and ready again once it can', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const applied = await world.gateway.applyDocument(
        world.gatewayDocument({ echo: route('echo'), web: route('echo', { port: taken }) }),
      );
      expect(applied).toMatchObject({ ok: true, refusedRoutes: ['web'] });
      const probe = await get(gatewayHealth, '/readyz');
      expect(probe.status).toBe(503);
      expect(codes(probe)).toEqual(['routes_not_listening']);
      expect(probe.body.reasons![0]!.message).toContain('web (refused: ');
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

    // The gateway learns of the outage from a client's tunnel attempt.
    expect((await get(gatewayHealth, '/readyz')).status).toBe(200);
    const client = await connectClient(world.port('echo'));
    client.socket.end('x');
    expect((await client.ended).received.length).toBe(0);
    const gatewayDown = await get(gatewayHealth, '/readyz');
    expect(gatewayDown.status).toBe(503);
    expect(gatewayDown.body.reasons).toEqual([
      { code: 'relay_unreachable', message: `relay unreachable for ${SITE} (network: RELAY_NETWORK)` },
    ]);

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

  it('counts a refused credential as unreachable, for a bounded time only', async () => {
    const shortHold = new GatewayReadiness({ relayFailureHoldMs: 300 });
    const detach = shortHold.attach(world.gateway);
    try {
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
      expect((await world.gateway.applyDocument(document)).ok).toBe(true);
      expect(shortHold.isReady()).toBe(true);
      const client = await connectClient(world.port('locked'));
      client.socket.end('x');
      await client.ended;
      expect(shortHold.reasons()).toEqual([
        { code: 'relay_unreachable', message: `relay unreachable for ${EMPTY} (auth: RELAY_UNAUTHORIZED)` },
      ]);
      // No new attempt comes while not ready (the load balancer sends nobody): after the hold it is ready again.
      await eventually(() => shortHold.isReady(), 'the hold to pass', 5_000);
    } finally {
      detach();
      await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo') }));
    }
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
