/**
 * A process entry in miniature, for tests and bench/telemetry-startup.ts: starts telemetry from its environment,
 * records one tunnel and one span, shuts down with TELEMETRY_CHILD_SHUTDOWN_MS as the bound, prints one JSON line
 * with the timings, and exits explicitly as our module entries do.
 */
import { get } from 'node:http';
import { startTelemetry } from '../../modules/common/src/telemetry/bootstrap';
import { endTunnelSpan, startTunnelSpan } from '../../modules/common/src/telemetry/tracing';

async function main(): Promise<void> {
  const beforeStartMs = performance.now();
  const telemetry = await startTelemetry({ serviceName: 'relay-gateway' });
  const readyMs = performance.now();
  const attrs = { route: 'sql', hybridConnection: 'hc-test' };
  const span = startTunnelSpan(telemetry.tracer, { module: 'relay-gateway', attrs, trackingId: 'child' });
  const tunnel = telemetry.metrics.tunnelOpened(attrs, 3);
  tunnel.toTarget(10);
  tunnel.close();
  endTunnelSpan(span, { bytes: tunnel.bytes() });
  // With METRICS_PORT set, scrape once: proves the Prometheus reader sits on whichever MeterProvider is active.
  const scrape = telemetry.metricsEndpoint && (await fetchMetrics(telemetry.metricsEndpoint));
  const shutdown = await telemetry.shutdown(Number(process.env.TELEMETRY_CHILD_SHUTDOWN_MS ?? 2000));
  const report = {
    mode: telemetry.mode,
    // performance.now() counts from process start, so readyMs includes Node boot and module loading.
    processToReadyMs: Math.round(readyMs),
    startTelemetryMs: Math.round(readyMs - beforeStartMs),
    shutdown,
    scrape,
    azureMonitorLoaded: Object.keys(require.cache).some((k) => k.includes('@azure/monitor-opentelemetry')),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`telemetry child failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

function fetchMetrics(endpoint: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: endpoint.host, port: endpoint.port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
