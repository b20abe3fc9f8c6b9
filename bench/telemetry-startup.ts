/**
 * Start-up cost of telemetry with and without Azure Monitor: runs tests/support/telemetry-child.ts several times in
 * each mode (interleaved, so machine noise hits both alike) and prints medians. Azure Monitor gets a fake connection
 * string pointing at a closed loopback port, so no network is needed.
 *
 *   npx ts-node --transpile-only bench/telemetry-startup.ts [runs]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTelemetryChild, TelemetryChildReport } from '../tests/support/telemetry-child-runner';

const FAKE_CONNECTION_STRING =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 7);
  const storageDir = mkdtempSync(join(tmpdir(), 'telemetry-bench-'));
  const results: Record<'local' | 'azure-monitor', TelemetryChildReport[]> = {
    local: [],
    'azure-monitor': [],
  };
  try {
    // One warm-up of each so the first measured run does not pay for a cold disk cache.
    for (let i = -1; i < runs; i++) {
      const local = await runTelemetryChild({ APPLICATIONINSIGHTS_CONNECTION_STRING: '' });
      const azure = await runTelemetryChild({
        APPLICATIONINSIGHTS_CONNECTION_STRING: FAKE_CONNECTION_STRING,
        TMPDIR: storageDir,
      });
      if (i >= 0) {
        results.local.push(local.report);
        results['azure-monitor'].push(azure.report);
      }
    }
  } finally {
    rmSync(storageDir, { recursive: true, force: true });
  }
  console.log(`telemetry start-up, median of ${runs} runs (node ${process.version})`);
  console.log('mode            startTelemetry()  process start → ready  shutdown (bound 2000 ms)');
  for (const mode of ['local', 'azure-monitor'] as const) {
    const r = results[mode];
    console.log(
      `${mode.padEnd(16)}${`${median(r.map((x) => x.startTelemetryMs))} ms`.padEnd(18)}` +
        `${`${median(r.map((x) => x.processToReadyMs))} ms`.padEnd(23)}` +
        `${median(r.map((x) => x.shutdown.elapsedMs))} ms (${r.filter((x) => x.shutdown.completed).length}/${r.length} completed)`,
    );
  }
}

void main();
