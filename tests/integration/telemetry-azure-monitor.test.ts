import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTelemetryChild } from '../support/telemetry-child-runner';

// Nothing listens on port 9 (discard) on loopback: every export fails at once, as with no network at all.
const FAKE_CONNECTION_STRING =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/';
const SHUTDOWN_BOUND_MS = 2_000;
// Correctness bound on our shutdown race (not a performance figure): the bound plus generous scheduling slack.
const SHUTDOWN_LIMIT_MS = 5_000;

describe('Azure Monitor telemetry without network', () => {
  let storageDir: string;
  beforeAll(() => {
    // The exporter keeps failed batches on disk under the temp dir; give it a private one and remove it after.
    storageDir = mkdtempSync(join(tmpdir(), 'telemetry-test-'));
  });
  afterAll(() => rmSync(storageDir, { recursive: true, force: true }));

  it('starts, records, and shuts down within the bound; the process then exits when its entry says so', async () => {
    const run = await runTelemetryChild({
      APPLICATIONINSIGHTS_CONNECTION_STRING: FAKE_CONNECTION_STRING,
      TELEMETRY_CHILD_SHUTDOWN_MS: String(SHUTDOWN_BOUND_MS),
      TMPDIR: storageDir,
      LOG_LEVEL: 'info',
      METRICS_PORT: '0',
    });
    expect(run.exitCode).toBe(0);
    expect(run.report.mode).toBe('azure-monitor');
    expect(run.report.azureMonitorLoaded).toBe(true);
    expect(run.report.shutdown.elapsedMs).toBeLessThan(SHUTDOWN_LIMIT_MS);
    // The measured figures, for the record (the closing note quotes bench/telemetry-startup.ts medians).
    const { scrape, ...figures } = run.report;
    console.info(`azure-monitor child: ${JSON.stringify(figures)}, wall ${run.wallMs} ms`);
    // The Prometheus reader rides on the distro's MeterProvider, and the service name reached the resource.
    expect(scrape).toContain(
      'relay_tunnel_bytes_total{module="relay-gateway",route="sql",hybrid_connection="hc-test",direction="to_target"} 10',
    );
    expect(scrape).toMatch(/target_info\{[^}]*service_name="relay-gateway"/);
    expect(scrape).toMatch(/target_info\{[^}]*telemetry_sdk_name="opentelemetry"/);
    expect(`${run.stdout}${run.stderr}`).not.toContain('InstrumentationKey=00000000');
  });

  it('takes the local path, without even loading the distro, when no connection string is set', async () => {
    const run = await runTelemetryChild({ APPLICATIONINSIGHTS_CONNECTION_STRING: '' });
    expect(run.exitCode).toBe(0);
    expect(run.report.mode).toBe('local');
    expect(run.report.azureMonitorLoaded).toBe(false);
    expect(run.report.shutdown.completed).toBe(true);
  });
});
