import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import schema from '../config/schema.json';
import type { SniRouting, SniTarget } from './sni-routing';

const DEFAULT_HELLO_TIMEOUT_MS = schema.$defs.sniRouting.properties.helloTimeoutMs.default;

/**
 * Compiles a route's `sni` entry (already schema-checked) into an {@link SniRouting}: the `names` table (keyed by
 * server name) and the `hosts` table (any key, the name in `name`: IoT Hub refuses `.` in twin keys, so a twin
 * can only carry this form). Names must be unique across both without regard to case and each must name a
 * configured hybrid connection. Problems are pushed with pointers.
 */
export function normalizeSniRouting(
  entry: Record<string, unknown> | undefined,
  hcEntries: Record<string, unknown>,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): SniRouting | undefined {
  if (entry === undefined) return undefined;
  if (entry.names === undefined && entry.hosts === undefined) {
    // The schema cannot say "one of two" briefly; one line here beats three from anyOf.
    problems.push({ path: at('sni'), message: 'sni needs its server names: "names" or "hosts" (or both)' });
    return undefined;
  }
  const listed = [...tableEntries(entry, 'names'), ...tableEntries(entry, 'hosts')];
  if (listed.length === 0) return undefined;
  const before = problems.length;
  const names = new Map<string, SniTarget>();
  const wildcards: Array<[string, SniTarget]> = [];
  for (const { written, raw, path } of listed) {
    const t = raw as Partial<SniTarget> | undefined;
    if (typeof t?.hybridConnection !== 'string' || typeof t.service !== 'string') continue;
    if (!Object.hasOwn(hcEntries, t.hybridConnection)) {
      problems.push({
        path: at(...path, 'hybridConnection'),
        message: `unknown hybrid connection "${t.hybridConnection}"`,
      });
      continue;
    }
    const name = written.toLowerCase();
    const target = { hybridConnection: t.hybridConnection, service: t.service };
    const duplicate = name.startsWith('*.') ? wildcards.some(([s]) => s === name.slice(1)) : names.has(name);
    if (duplicate) {
      problems.push({
        path: at(...path),
        message: `"${written}" is listed twice (names ignore case, in names and hosts alike)`,
      });
      continue;
    }
    if (name.startsWith('*.')) wildcards.push([name.slice(1), target]);
    else names.set(name, target);
  }
  if (problems.length > before) return undefined;
  wildcards.sort((a, b) => b[0].length - a[0].length);
  return {
    names,
    wildcards,
    unknownName: entry?.unknownName === 'default' ? 'default' : 'refuse',
    helloTimeoutMs:
      typeof entry?.helloTimeoutMs === 'number' ? entry.helloTimeoutMs : DEFAULT_HELLO_TIMEOUT_MS,
    text: JSON.stringify(entry),
  };
}

/** The server names of one table with where each was written: `names` keys, or `hosts.<key>.name`. */
function tableEntries(
  entry: Record<string, unknown> | undefined,
  table: 'names' | 'hosts',
): { written: string; raw: unknown; path: string[] }[] {
  const raw = entry?.[table];
  if (!raw || typeof raw !== 'object') return [];
  return Object.entries(raw as Record<string, unknown>).flatMap(([key, value]) => {
    if (table === 'names') return [{ written: key, raw: value, path: ['sni', 'names', key] }];
    const name = (value as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' ? [{ written: name, raw: value, path: ['sni', 'hosts', key] }] : [];
  });
}
