// Keeps the Azure Monitor workbook and the alert queries in step with the instrument table: every metric name they
// query exists, every dimension they read is an attribute of the metrics they query, every parameter they use exists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTRUMENTS } from '../../../../modules/common/src/telemetry/instruments';

const ROOT = join(__dirname, '../../../..');
const SPECS = Object.values(INSTRUMENTS);
const NAMES = new Set<string>(SPECS.map((s) => s.name));

interface WorkbookItem {
  type: number;
  name: string;
  content: {
    version?: string;
    query?: string;
    resourceType?: string;
    timeContextFromParameter?: string;
    parameters?: { name: string; query?: string; version: string }[];
  };
}

/** Metric names a query reads: `name == '…'`, `name in ('…', …)`; `name startswith '…'` stands for every match. */
function metricsOf(query: string): { names: string[]; prefixes: string[] } {
  const names = [...query.matchAll(/\bname\s*==\s*'([^']+)'/g)].map((m) => m[1]!);
  for (const list of query.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)) {
    names.push(...[...list[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
  }
  const prefixes = [...query.matchAll(/\bname\s+startswith\s+'([^']+)'/g)].map((m) => m[1]!);
  return { names, prefixes };
}

function dimensionsOf(query: string): string[] {
  return [...query.matchAll(/customDimensions\[\s*'([^']+)'\s*\]|customDimensions\.(\w+)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

/** Checks one query; returns the metric names it reads. */
function checkQuery(where: string, query: string): string[] {
  const { names, prefixes } = metricsOf(query);
  expect({ where, metrics: names.length + prefixes.length > 0 }).toEqual({ where, metrics: true });
  for (const name of names)
    expect({ where, name, known: NAMES.has(name) }).toEqual({ where, name, known: true });
  const specs = SPECS.filter((s) => names.includes(s.name) || prefixes.some((p) => s.name.startsWith(p)));
  for (const prefix of prefixes) {
    expect({ where, prefix, matches: SPECS.some((s) => s.name.startsWith(prefix)) }).toEqual({
      where,
      prefix,
      matches: true,
    });
  }
  const attributes = new Set<string>(specs.flatMap((s) => s.attributes));
  for (const dimension of dimensionsOf(query)) {
    expect({ where, dimension, known: attributes.has(dimension) }).toEqual({ where, dimension, known: true });
  }
  return names;
}

describe('cloud/monitor/workbook.json', () => {
  const workbook = JSON.parse(readFileSync(join(ROOT, 'cloud/monitor/workbook.json'), 'utf8')) as {
    version: string;
    items: WorkbookItem[];
  };
  const parameterItems = workbook.items.filter((i) => i.type === 9);
  const parameters = parameterItems.flatMap((i) => i.content.parameters ?? []);
  const queryItems = workbook.items.filter((i) => i.type === 3);

  it('is a Notebook/1.0 workbook of named items querying Application Insights', () => {
    expect(workbook.version).toBe('Notebook/1.0');
    const names = workbook.items.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
    expect(parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['TimeRange', 'Module', 'HybridConnection']),
    );
    expect(queryItems.length).toBeGreaterThanOrEqual(8);
    for (const item of queryItems) {
      expect([item.name, item.content.version, item.content.resourceType]).toEqual([
        item.name,
        'KqlItem/1.0',
        'microsoft.insights/components',
      ]);
      expect([item.name, item.content.query]).toEqual([item.name, expect.stringContaining('{TimeRange}')]);
    }
  });

  it('queries only metrics and dimensions that instruments.ts defines', () => {
    const queried = new Set<string>();
    for (const item of queryItems)
      for (const name of checkQuery(item.name, item.content.query!)) queried.add(name);
    for (const p of parameters.filter((p) => p.query)) checkQuery(`parameter ${p.name}`, p.query!);
    // What the workbook is for: each of these has a chart.
    expect([...queried]).toEqual(
      expect.arrayContaining([
        INSTRUMENTS.tunnelsActive.name,
        INSTRUMENTS.connectionsRefused.name,
        INSTRUMENTS.tunnelBytes.name,
        INSTRUMENTS.listenersOnline.name,
        INSTRUMENTS.tokenExpiry.name,
        INSTRUMENTS.reconcileDuration.name,
      ]),
    );
  });

  it('uses only parameters it defines', () => {
    const defined = new Set(parameters.map((p) => p.name));
    const texts = [...queryItems.map((i) => i.content.query!), ...parameters.map((p) => p.query ?? '')];
    for (const text of texts) {
      for (const m of text.matchAll(/\{(\w+)(?::\w+)?\}/g)) expect(defined).toContain(m[1]);
    }
  });
});

describe('docs/alerts.md queries', () => {
  const doc = readFileSync(join(ROOT, 'docs/alerts.md'), 'utf8');
  const blocks = [...doc.matchAll(/```kusto\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has the listener-down, refused-spike and token-expiry queries, in step with instruments.ts', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const queried = new Set(blocks.flatMap((b, i) => checkQuery(`alerts.md block ${i + 1}`, b)));
    expect([...queried]).toEqual(
      expect.arrayContaining([
        INSTRUMENTS.listenersOnline.name,
        INSTRUMENTS.connectionsRefused.name,
        INSTRUMENTS.tokenExpiry.name,
      ]),
    );
  });
});

describe('the check itself', () => {
  it('notices an unknown metric and a dimension the metric does not have', () => {
    expect(() => checkQuery('t', "customMetrics | where name == 'relay.tunnels.opened'")).toThrow();
    expect(() =>
      checkQuery(
        't',
        "customMetrics | where name == 'relay.listeners.online' | extend r = customDimensions['reason']",
      ),
    ).toThrow();
    expect(
      checkQuery(
        't',
        "customMetrics | where name in ('relay.token.renewals') | extend o = customDimensions['outcome']",
      ),
    ).toEqual(['relay.token.renewals']);
  });
});
