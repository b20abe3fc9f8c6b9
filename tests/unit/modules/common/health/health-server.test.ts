import { request } from 'node:http';
import { createServer } from 'node:net';
import {
  HealthServer,
  healthSettingsFromEnv,
  startHealthServer,
} from '../../../../../modules/common/src/health/health-server';
import {
  NOT_READY,
  ReadinessCheck,
  ReadinessTracker,
} from '../../../../../modules/common/src/health/readiness';
import { TelemetryError } from '../../../../../modules/common/src/telemetry/errors';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(server: HealthServer, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('health server', () => {
  let server: HealthServer | undefined;
  const start = async (readiness: ReadinessCheck, readinessTimeoutMs?: number) =>
    (server = await startHealthServer({ port: 0, host: '127.0.0.1', readiness, readinessTimeoutMs }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /healthz with 200 whatever readiness says', async () => {
    const s = await start(() => [{ code: 'x', message: 'y' }]);
    const reply = await call(s, '/healthz');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: 'alive' });
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('answers /readyz 503 with the reasons, then 200 once the tracker clears', async () => {
    const tracker = new ReadinessTracker([
      { code: NOT_READY.noConfiguration, message: 'no configuration yet' },
    ]);
    tracker.notReady(NOT_READY.listenersOffline, '0 of 1 listeners online');
    const s = await start(tracker.check);
    let reply = await call(s, '/readyz');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({
      status: 'not_ready',
      reasons: [
        { code: 'no_configuration', message: 'no configuration yet' },
        { code: 'listeners_offline', message: '0 of 1 listeners online' },
      ],
    });
    tracker.ready(NOT_READY.noConfiguration);
    tracker.ready(NOT_READY.listenersOffline);
    reply = await call(s, '/readyz?probe=lb');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: 'ready', reasons: [] });
  });

  it('accepts async readiness checks', async () => {
    const s = await start(async () => []);
    expect((await call(s, '/readyz')).status).toBe(200);
  });

  it('is not ready when the check throws or hangs past its bound', async () => {
    let s = await start(() => {
      throw new Error('boom');
    });
    let reply = await call(s, '/readyz');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body).reasons[0].code).toBe('readiness_check_failed');
    await s.close();

    s = await start(() => new Promise(() => {}), 50);
    reply = await call(s, '/readyz');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body).reasons[0].code).toBe('readiness_timeout');
  });

  it('answers HEAD without a body, refuses other methods and unknown paths', async () => {
    const s = await start(() => []);
    const head = await call(s, '/readyz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    const post = await call(s, '/healthz', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await call(s, '/metrics')).status).toBe(404);
  });

  it('closes with keep-alive connections open, and close is idempotent', async () => {
    const s = await start(() => []);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: s.port, path: '/healthz', headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    await Promise.all([s.close(), s.close()]);
    await expect(call(s, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('fails with TELEMETRY_LISTEN_FAILED when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startHealthServer({ port, host: '127.0.0.1', readiness: () => [] }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TelemetryError);
      expect(err).toMatchObject({ code: 'TELEMETRY_LISTEN_FAILED', retryable: true });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('healthSettingsFromEnv', () => {
  it('uses the caller default port on all interfaces unless told otherwise', () => {
    expect(healthSettingsFromEnv({}, 8081)).toEqual({ port: 8081, host: '0.0.0.0' });
    expect(healthSettingsFromEnv({ HEALTH_PORT: '9000', HEALTH_BIND_ADDRESS: '10.0.0.4' }, 8080)).toEqual({
      port: 9000,
      host: '10.0.0.4',
    });
  });

  it('refuses a bad HEALTH_PORT', () => {
    expect(() => healthSettingsFromEnv({ HEALTH_PORT: 'http' }, 8080)).toThrow(/HEALTH_PORT/);
  });
});
