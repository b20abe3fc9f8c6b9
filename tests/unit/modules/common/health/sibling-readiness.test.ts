// The load balancer's one probe per gateway VM: the first relay-gateway module's /readyz answers for its siblings
// too. Real health servers on loopback (port 0): a sibling that is not ready, stopped, or silent makes the first
// module's /readyz 503 with a reason naming that sibling; all ready gives 200.
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { startHealthServer, type HealthServer } from '../../../../../modules/common/src/health/health-server';
import { NOT_READY, ReadinessTracker } from '../../../../../modules/common/src/health/readiness';
import {
  SIBLING_NOT_READY,
  siblingPortsFromEnv,
  withSiblings,
} from '../../../../../modules/common/src/health/sibling-readiness';
import { TelemetryError } from '../../../../../modules/common/src/telemetry/errors';

function readyz(
  server: HealthServer,
): Promise<{ status: number; body: { reasons: { code: string; message: string }[] } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/readyz', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('withSiblings: one probe for every module of a VM', () => {
  const servers: HealthServer[] = [];
  const silent: { server: Server; sockets: Set<Socket> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    for (const { server, sockets } of silent.splice(0)) {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  const module = async (tracker: ReadinessTracker, siblings: number[] = [], timeoutMs?: number) => {
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      readiness: withSiblings(tracker.check, { ports: siblings, ...(timeoutMs && { timeoutMs }) }),
    });
    servers.push(server);
    return server;
  };

  it('is ready when the module and every sibling are ready', async () => {
    const second = await module(new ReadinessTracker());
    const third = await module(new ReadinessTracker());
    const first = await module(new ReadinessTracker(), [second.port, third.port]);
    expect(await readyz(first)).toEqual({ status: 200, body: { status: 'ready', reasons: [] } });
  });

  it('is not ready while one sibling is not, naming that sibling and its reason; ready again after', async () => {
    const secondState = new ReadinessTracker();
    const second = await module(secondState);
    const third = await module(new ReadinessTracker());
    const first = await module(new ReadinessTracker(), [second.port, third.port]);
    secondState.notReady(NOT_READY.relayUnreachable, 'relay unreachable from this instance');
    const reply = await readyz(first);
    expect(reply.status).toBe(503);
    expect(reply.body.reasons).toEqual([
      {
        code: SIBLING_NOT_READY,
        message: `the module on health port ${second.port}: 503 (relay_unreachable)`,
      },
    ]);
    secondState.ready(NOT_READY.relayUnreachable);
    expect((await readyz(first)).status).toBe(200);
  });

  it('is not ready when a sibling is down (nothing listens on its health port)', async () => {
    const gone = await module(new ReadinessTracker());
    const port = gone.port;
    await servers.splice(servers.indexOf(gone), 1)[0]?.close();
    const first = await module(new ReadinessTracker(), [port]);
    const reply = await readyz(first);
    expect(reply.status).toBe(503);
    expect(reply.body.reasons).toEqual([
      { code: SIBLING_NOT_READY, message: `the module on health port ${port}: ECONNREFUSED` },
    ]);
  });

  it('is not ready when a sibling accepts but never answers (bounded by the timeout)', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    silent.push({ server, sockets });
    const port = (server.address() as { port: number }).port;
    const first = await module(new ReadinessTracker(), [port], 200);
    const reply = await readyz(first);
    expect(reply.status).toBe(503);
    expect(reply.body.reasons).toEqual([
      { code: SIBLING_NOT_READY, message: `the module on health port ${port}: no answer within 200 ms` },
    ]);
  });

  it("keeps the module's own reasons first", async () => {
    const own = new ReadinessTracker([{ code: NOT_READY.noConfiguration, message: 'no configuration yet' }]);
    const second = await module(new ReadinessTracker());
    const first = await module(own, [second.port]);
    const reply = await readyz(first);
    expect(reply.body.reasons).toEqual([
      { code: NOT_READY.noConfiguration, message: 'no configuration yet' },
    ]);
  });
});

describe('siblingPortsFromEnv', () => {
  it('reads comma-separated ports; absent or empty is none', () => {
    expect(siblingPortsFromEnv({})).toEqual([]);
    expect(siblingPortsFromEnv({ HEALTH_SIBLING_PORTS: ' ' })).toEqual([]);
    expect(siblingPortsFromEnv({ HEALTH_SIBLING_PORTS: '8102, 8103' })).toEqual([8102, 8103]);
  });

  it('refuses anything else with an error naming the variable', () => {
    for (const bad of ['8102,', 'http', '0', '70000', '8102;8103'])
      expect(() => siblingPortsFromEnv({ HEALTH_SIBLING_PORTS: bad })).toThrow(TelemetryError);
    expect(() => siblingPortsFromEnv({ HEALTH_SIBLING_PORTS: 'x' })).toThrow(/HEALTH_SIBLING_PORTS/);
  });
});
