import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { INSTRUMENTS, REFUSAL_REASONS } from '../../../../../modules/common/src/telemetry/instruments';
import { prometheusName } from '../../../../../modules/common/src/telemetry/prometheus';

const doc = readFileSync(resolve(__dirname, '../../../../../docs/observability.md'), 'utf8');
const rows = doc.split('\n').filter((l) => l.startsWith('| `'));

describe('instrument table', () => {
  it('has unique names', () => {
    const names = Object.values(INSTRUMENTS).map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(Object.values(INSTRUMENTS).map((s) => [s.name, s] as const))(
    '%s is documented with its kind, unit, attributes and Prometheus name',
    (name, spec) => {
      const row = rows.find((r) => r.startsWith(`| \`${name}\` |`));
      expect(row).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2]).toBe(spec.kind);
      expect(cells[3]).toBe(`\`${spec.unit}\``);
      expect(cells[4]).toBe(spec.attributes.map((a) => `\`${a}\``).join(', '));
      const monotonic = spec.kind === 'counter' || spec.kind === 'observable_counter';
      expect(cells[5]).toBe(`\`${prometheusName(spec.name, spec.unit, monotonic)}\``);
    },
  );

  it.each(REFUSAL_REASONS)('refusal reason %s is documented', (reason) => {
    expect(rows.some((r) => r.startsWith(`| \`${reason}\` |`))).toBe(true);
  });

  it.each([
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    'AZURE_MONITOR_LIVE_METRICS',
    'AZURE_MONITOR_HTTP_INSTRUMENTATION',
    'METRICS_PORT',
    'METRICS_BIND_ADDRESS',
    'OTEL_SERVICE_NAME',
    'HEALTH_PORT',
    'HEALTH_BIND_ADDRESS',
    'LOG_LEVEL',
  ])('environment variable %s is documented', (name) => {
    expect(rows.some((r) => r.startsWith(`| \`${name}\` |`))).toBe(true);
  });
});
