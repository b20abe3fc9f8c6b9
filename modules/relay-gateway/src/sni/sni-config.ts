import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import schema from '../config/schema.json';
import type { SniRouting, SniTarget } from './sni-routing';

const DEFAULT_HELLO_TIMEOUT_MS = schema.$defs.sniRouting.properties.helloTimeoutMs.default;

/**
 * Compiles a route's `sni` entry (already schema-checked) into an {@link SniRouting}; names must be unique
 * without regard to case and each must name a configured hybrid connection. Problems are pushed with pointers.
 */
export function normalizeSniRouting(
  entry: Record<string, unknown> | undefined,
  hcEntries: Record<string, unknown>,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): SniRouting | undefined {
  const rawNames = entry?.names;
  if (!rawNames || typeof rawNames !== 'object') return undefined;
  const before = problems.length;
  const names = new Map<string, SniTarget>();
  const wildcards: Array<[string, SniTarget]> = [];
  for (const [written, raw] of Object.entries(rawNames as Record<string, unknown>)) {
    const t = raw as Partial<SniTarget> | undefined;
    if (typeof t?.hybridConnection !== 'string' || typeof t.service !== 'string') continue;
    if (!Object.hasOwn(hcEntries, t.hybridConnection)) {
      problems.push({
        path: at('sni', 'names', written, 'hybridConnection'),
        message: `unknown hybrid connection "${t.hybridConnection}"`,
      });
      continue;
    }
    const name = written.toLowerCase();
    const target = { hybridConnection: t.hybridConnection, service: t.service };
    const duplicate = name.startsWith('*.') ? wildcards.some(([s]) => s === name.slice(1)) : names.has(name);
    if (duplicate) {
      problems.push({
        path: at('sni', 'names', written),
        message: `"${written}" is listed twice (names ignore case)`,
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
