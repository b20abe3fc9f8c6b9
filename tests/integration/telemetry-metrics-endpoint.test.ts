import { get } from 'node:http';
import { startTelemetry, Telemetry } from '../../modules/common/src/telemetry/bootstrap';
import { PROMETHEUS_CONTENT_TYPE } from '../../modules/common/src/telemetry/metrics-endpoint';

function fetchText(
  host: string,
  port: number,
  path: string,
): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

describe('local telemetry with the Prometheus endpoint', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('serves what the facade recorded on loopback, and stops serving after shutdown', async () => {
    telemetry = await startTelemetry({ serviceName: 'relay-forwarder', env: { METRICS_PORT: '0' } });
    expect(telemetry.mode).toBe('local');
    const endpoint = telemetry.metricsEndpoint!;
    expect(endpoint.host).toBe('127.0.0.1');

    const attrs = { route: 'sql', hybridConnection: 'hc-berlin', location: 'berlin' };
    const tunnel = telemetry.metrics.tunnelOpened(attrs, 12);
    tunnel.toTarget(4096);
    tunnel.toClient(100);
    telemetry.metrics.connectionRefused(attrs, 'target_refused');
    telemetry.metrics.setListenersOnline({ hybridConnection: 'hc-berlin', location: 'berlin' }, 1);

    const reply = await fetchText(endpoint.host, endpoint.port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.type).toBe(PROMETHEUS_CONTENT_TYPE);
    const labels = 'module="relay-forwarder",route="sql",hybrid_connection="hc-berlin",location="berlin"';
    const lines = reply.body.split('\n');
    expect(lines).toContain(`relay_tunnel_bytes_total{${labels},direction="to_target"} 4096`);
    expect(lines).toContain(`relay_tunnel_bytes_total{${labels},direction="to_client"} 100`);
    expect(lines).toContain(`relay_tunnels_active{${labels}} 1`);
    expect(lines).toContain(`relay_connections_refused_total{${labels},reason="target_refused"} 1`);
    expect(lines).toContain(
      'relay_listeners_online{module="relay-forwarder",hybrid_connection="hc-berlin",location="berlin"} 1',
    );
    expect(lines.find((l) => l.startsWith('target_info{'))).toContain('service_name="relay-forwarder"');
    expect((await fetchText(endpoint.host, endpoint.port, '/')).status).toBe(404);

    const result = await telemetry.shutdown();
    expect(result.completed).toBe(true);
    await expect(fetchText(endpoint.host, endpoint.port, '/metrics')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('has no endpoint unless METRICS_PORT is set; the facade still works', async () => {
    telemetry = await startTelemetry({ serviceName: 'relay-gateway', env: {} });
    expect(telemetry.metricsEndpoint).toBeUndefined();
    telemetry.metrics.tunnelOpened({ route: 'r', hybridConnection: 'h' }, 1).close();
    expect(await telemetry.shutdown(1000)).toMatchObject({ completed: true });
  });

  it('honours OTEL_SERVICE_NAME for the resource but keeps the module attribute', async () => {
    telemetry = await startTelemetry({
      serviceName: 'relay-gateway',
      env: { METRICS_PORT: '0', OTEL_SERVICE_NAME: 'gateway-eu-1' },
    });
    telemetry.metrics.configVersion('applied');
    const { host, port } = telemetry.metricsEndpoint!;
    const body = (await fetchText(host, port, '/metrics')).body;
    expect(body).toContain('service_name="gateway-eu-1"');
    expect(body).toContain('relay_config_versions_total{module="relay-gateway",outcome="applied"} 1');
  });

  it('fails to start with a bad setting and when the port is taken, leaving nothing behind', async () => {
    await expect(startTelemetry({ serviceName: 'x', env: { METRICS_PORT: 'nine' } })).rejects.toMatchObject({
      code: 'TELEMETRY_BAD_SETTING',
    });
    telemetry = await startTelemetry({ serviceName: 'a', env: { METRICS_PORT: '0' } });
    const taken = String(telemetry.metricsEndpoint!.port);
    await expect(startTelemetry({ serviceName: 'b', env: { METRICS_PORT: taken } })).rejects.toMatchObject({
      code: 'TELEMETRY_LISTEN_FAILED',
    });
  });

  it('shutdown is idempotent', async () => {
    telemetry = await startTelemetry({ serviceName: 'a', env: { METRICS_PORT: '0' } });
    const [a, b] = await Promise.all([telemetry.shutdown(), telemetry.shutdown()]);
    expect(a).toBe(b);
  });
});
