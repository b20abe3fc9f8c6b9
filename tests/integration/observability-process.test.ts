// The process-level observability the entry files use: nothing starts until the CLI hands over its runtime object,
// then telemetry (/metrics) and /healthz + /readyz run bound to it, and shutdown leaves nothing listening.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import pino from 'pino';
import { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import { forwarderObservability } from '../../modules/relay-forwarder/src/observability-process';
import { Gateway } from '../../modules/relay-gateway/src/gateway';
import { gatewayObservability } from '../../modules/relay-gateway/src/observability-process';
import {
  ScriptedOpener,
  gatewayDocument,
  loopbackRoute,
  roundTrip,
  routePort,
} from '../support/relay-gateway-harness';

const ENV = { HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1', METRICS_PORT: '0' };
const silent = (): pino.Logger => pino({ level: 'silent' });

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('module observability (entry-file wiring)', () => {
  it('starts with the gateway, follows it on /readyz and /metrics, and shuts down cleanly', async () => {
    const signals = new EventEmitter();
    const observability = gatewayObservability({ env: ENV, logger: silent(), signals });
    expect(await observability.started()).toBeUndefined();
    const opener = new ScriptedOpener();
    const gateway = new Gateway({ opener: opener.open, logger: silent() });
    const extension = await observability.extension(gateway);
    const running = (await observability.started())!;
    const health = running.health.port;
    const metrics = running.telemetry.metricsEndpoint!.port;
    try {
      expect(running.telemetry.mode).toBe('local');
      expect((await get(health, '/healthz')).status).toBe(200);
      expect(JSON.parse((await get(health, '/readyz')).body).reasons[0].code).toBe('no_configuration');

      expect((await gateway.applyDocument(gatewayDocument({ web: loopbackRoute() }))).ok).toBe(true);
      expect((await get(health, '/readyz')).status).toBe(200);
      expect((await roundTrip(routePort(gateway, 'web'), 'hi')).received.toString()).toBe('hi');
      const scrape = (await get(metrics, '/metrics')).body;
      expect(scrape).toMatch(/relay_connections_accepted_total\{[^}]*route="web"[^}]*\} 1/);
      expect(scrape).toMatch(/relay_config_versions_total\{[^}]*outcome="applied"[^}]*\} 1/);
      // The opener got the connect headers hook (no propagator registered: no trace headers, no cost); only the
      // client's address travels (x-hrf-client, docs/tunnel-protocol.md §4a).
      expect(opener.requests[0]!.headers).toEqual({
        'x-hrf-client': expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });

      signals.emit('SIGTERM');
      const probe = await get(health, '/readyz');
      expect({ status: probe.status, code: JSON.parse(probe.body).reasons[0].code }).toEqual({
        status: 503,
        code: 'shutting_down',
      });
    } finally {
      await gateway.stop(0);
      await extension.stop();
      await observability.shutdown();
    }
    expect(await refused(health)).toBe(true);
    expect(await refused(metrics)).toBe(true);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('starts with the forwarder (twin mode: before any configuration) and reports why it is not ready', async () => {
    const observability = forwarderObservability({ env: ENV, logger: silent() });
    const forwarder = new Forwarder({ log: silent() });
    const extension = await observability.extension(forwarder);
    const { health } = (await observability.started())!;
    try {
      const probe = await get(health.port, '/readyz');
      expect(probe.status).toBe(503);
      expect(observability.readiness.reasons()).toEqual([
        { code: 'no_configuration', message: 'no configuration applied yet' },
      ]);
    } finally {
      await forwarder.stop(0);
      await extension.stop();
      await observability.shutdown();
    }
    expect(await refused(health.port)).toBe(true);
  });

  it('answers the load balancer for its sibling gateway module too (HEALTH_SIBLING_PORTS)', async () => {
    // Two relay-gateway modules of one VM: the second's /readyz on its own port, the first's covering both.
    const second = gatewayObservability({ env: ENV, logger: silent() });
    const secondGateway = new Gateway({ opener: new ScriptedOpener().open, logger: silent() });
    await second.extension(secondGateway);
    const secondPort = (await second.started())!.health.port;
    const first = gatewayObservability({
      env: { ...ENV, HEALTH_SIBLING_PORTS: String(secondPort) },
      logger: silent(),
    });
    const firstGateway = new Gateway({ opener: new ScriptedOpener().open, logger: silent() });
    await first.extension(firstGateway);
    const firstPort = (await first.started())!.health.port;
    try {
      expect((await firstGateway.applyDocument(gatewayDocument({ web: loopbackRoute() }))).ok).toBe(true);
      // The first is configured, the second is not: the probe's answer is the second's.
      const probe = await get(firstPort, '/readyz');
      expect({ status: probe.status, reasons: JSON.parse(probe.body).reasons }).toEqual({
        status: 503,
        reasons: [
          {
            code: 'sibling_not_ready',
            message: `the module on health port ${secondPort}: 503 (no_configuration)`,
          },
        ],
      });
      // Its own report stays its own.
      expect(first.readiness.reasons()).toEqual([]);
      expect((await secondGateway.applyDocument(gatewayDocument({ web: loopbackRoute() }))).ok).toBe(true);
      expect((await get(firstPort, '/readyz')).status).toBe(200);
      // The second stops: the first's probe fails again (nothing answers on its port).
      await second.shutdown();
      const gone = JSON.parse((await get(firstPort, '/readyz')).body).reasons;
      expect(gone).toEqual([
        { code: 'sibling_not_ready', message: `the module on health port ${secondPort}: ECONNREFUSED` },
      ]);
    } finally {
      await firstGateway.stop(0);
      await secondGateway.stop(0);
      await first.shutdown();
      await second.shutdown();
    }
  });

  it('fails to start on a malformed setting, leaving nothing running, and shuts down without having started', async () => {
    const observability = gatewayObservability({ env: { ...ENV, HEALTH_PORT: 'eighty' }, logger: silent() });
    const gateway = new Gateway({ opener: new ScriptedOpener().open, logger: silent() });
    await expect(observability.extension(gateway)).rejects.toMatchObject({
      code: 'TELEMETRY_BAD_SETTING',
      message: expect.stringContaining('HEALTH_PORT'),
    });
    expect(await observability.started()).toBeUndefined();
    await observability.shutdown();
    await gateway.stop(0);
  });
});
