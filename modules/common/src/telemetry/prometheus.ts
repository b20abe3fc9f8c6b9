import type { Attributes } from '@opentelemetry/api';
import { DataPointType, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * Prometheus text exposition (format 0.0.4) of OpenTelemetry collected metrics, written by hand to avoid pinning
 * @opentelemetry/exporter-prometheus to our SDK version. Names follow the OpenTelemetry → Prometheus rules:
 * dots become underscores, a unit suffix is added (`By` → `_bytes`, `ms` → `_milliseconds`, `s` → `_seconds`,
 * `{annotations}` dropped), and monotonic sums end in `_total`. Expects cumulative temporality (the reader default).
 */
export function serializePrometheus(resourceMetrics: ResourceMetrics): string {
  const families = new Map<string, { type: string; help: string; lines: string[] }>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const rendered = renderMetric(metric);
      if (!rendered) continue;
      const family = families.get(rendered.name);
      // The same name from two scopes merges when the types agree; a conflicting type is dropped, not mislabelled.
      if (!family) families.set(rendered.name, rendered);
      else if (family.type === rendered.type) family.lines.push(...rendered.lines);
    }
  }
  const out: string[] = [];
  const target = targetInfo(resourceMetrics);
  if (target) out.push('# HELP target_info Target metadata', '# TYPE target_info gauge', target);
  for (const [name, f] of families) {
    if (f.lines.length === 0) continue;
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.lines);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The Prometheus metric family name for an OpenTelemetry instrument (without `_bucket`/`_sum`/`_count`). */
export function prometheusName(name: string, unit: string, monotonicSum: boolean): string {
  let base = sanitizeName(name);
  const suffix = unitSuffix(unit);
  if (suffix && !base.endsWith(`_${suffix}`)) base = `${base}_${suffix}`;
  if (monotonicSum && !base.endsWith('_total')) base = `${base}_total`;
  return base;
}

function renderMetric(
  metric: MetricData,
): { name: string; type: string; help: string; lines: string[] } | undefined {
  const { descriptor } = metric;
  const help = descriptor.description || descriptor.name;
  switch (metric.dataPointType) {
    case DataPointType.SUM: {
      const name = prometheusName(descriptor.name, descriptor.unit, metric.isMonotonic);
      const lines = metric.dataPoints.map((p) => sample(name, p.attributes, p.value));
      return { name, type: metric.isMonotonic ? 'counter' : 'gauge', help, lines };
    }
    case DataPointType.GAUGE: {
      const name = prometheusName(descriptor.name, descriptor.unit, false);
      return {
        name,
        type: 'gauge',
        help,
        lines: metric.dataPoints.map((p) => sample(name, p.attributes, p.value)),
      };
    }
    case DataPointType.HISTOGRAM: {
      const name = prometheusName(descriptor.name, descriptor.unit, false);
      const lines: string[] = [];
      for (const p of metric.dataPoints) {
        const { boundaries, counts } = p.value.buckets;
        let cumulative = 0;
        boundaries.forEach((le, i) => {
          cumulative += counts[i] ?? 0;
          lines.push(sample(`${name}_bucket`, p.attributes, cumulative, formatNumber(le)));
        });
        lines.push(sample(`${name}_bucket`, p.attributes, p.value.count, '+Inf'));
        lines.push(sample(`${name}_sum`, p.attributes, p.value.sum ?? 0));
        lines.push(sample(`${name}_count`, p.attributes, p.value.count));
      }
      return { name, type: 'histogram', help, lines };
    }
    default:
      // Exponential histograms have no text-format equivalent; none of our instruments produce them.
      return undefined;
  }
}

function sample(name: string, attributes: Attributes, value: number, le?: string): string {
  const labels = Object.entries(attributes)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(
      ([k, v]) => `${sanitizeLabel(k)}="${escapeLabel(Array.isArray(v) ? JSON.stringify(v) : String(v))}"`,
    );
  if (le !== undefined) labels.push(`le="${le}"`);
  return `${name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatNumber(value)}`;
}

function targetInfo(resourceMetrics: ResourceMetrics): string | undefined {
  // Raw attributes, first occurrence winning as in Resource.attributes, skipping values still pending: reading
  // `attributes` while async detectors (Azure VM metadata) run would log an error on every scrape.
  const attrs: Attributes = {};
  for (const [key, value] of resourceMetrics.resource.getRawAttributes()) {
    const settled = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    if (settled && !(key in attrs)) attrs[key] = value;
  }
  return Object.keys(attrs).length ? sample('target_info', attrs, 1) : undefined;
}

const UNIT_SUFFIX: Readonly<Record<string, string>> = {
  By: 'bytes',
  ms: 'milliseconds',
  s: 'seconds',
  '1': 'ratio',
};

function unitSuffix(unit: string): string {
  const bare = unit.replace(/\{[^}]*\}/g, '').trim();
  if (!bare) return '';
  return UNIT_SUFFIX[bare] ?? sanitizeName(bare);
}

function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_+/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function sanitizeLabel(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
