// What the fleet prints: the table of services, lines to try them, the boot → reachable times, check results and
// the controller's summary (pure functions).
import { relative } from 'node:path';
import type { ReconcileResult } from '../../../cloud/src/reconcile/reconcile';
import type { FleetRow, LocationTimings } from './location';

/** A location's name and timings, as printed. */
export interface TimedLocation {
  readonly name: string;
  readonly timings: LocationTimings;
}

/** One verification of a service through the gateway. */
export interface CheckLine {
  readonly location: string;
  readonly service: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The table: location, service, public port, on-prem target, state. */
export function formatTable(rows: readonly FleetRow[]): string {
  return alignColumns([
    ['location', 'service', 'public port', 'target', 'state'],
    ...rows.map((r) => [
      r.location,
      r.service,
      `127.0.0.1:${r.publicPort}`,
      `${r.target} (${r.kind === 'http' ? 'HTTP' : 'TCP echo'})`,
      r.verified.ok ? 'reachable' : 'unreachable',
    ]),
  ])
    .map((line) => `  ${line}`)
    .join('\n');
}

/** Ready-to-run lines: curl for HTTP, nc (or a node one-liner without nc) for the echo; each names its service. */
export function tryItLines(rows: readonly FleetRow[], options: { readonly hasNc: boolean }): string[] {
  const commands = rows.map((r) => {
    if (r.kind === 'http') return `curl http://127.0.0.1:${r.publicPort}/`;
    if (options.hasNc) return `printf 'hello\\n' | nc -q1 127.0.0.1 ${r.publicPort}`;
    return `node -e "const s=require('net').connect(${r.publicPort},'127.0.0.1',()=>s.end('hello\\n'));s.pipe(process.stdout)"`;
  });
  const width = Math.max(0, ...commands.map((c) => c.length));
  return commands.map((c, i) => `${c.padEnd(width)}  # ${rows[i]!.location} / ${rows[i]!.service}`);
}

/** Seconds with one decimal. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One line per location: boot → reachable, with the steps inside it and the provisioning before it. */
export function formatTimings(locations: readonly TimedLocation[]): string {
  const width = Math.max(0, ...locations.map((l) => l.name.length));
  return locations
    .map((l) => {
      const t = l.timings;
      const forwarder =
        t.forwarderStartedMs !== undefined
          ? `, relay-forwarder started at ${seconds(t.forwarderStartedMs)}`
          : '';
      return `  ${l.name.padEnd(width)}  ${seconds(t.reachableMs).padStart(6)}  (DPS registration ${seconds(t.dpsMs)}${forwarder}; provisioning before boot ${seconds(t.provisionMs)})`;
    })
    .join('\n');
}

/** The heading above the timings, saying what is measured. */
export const TIMINGS_HEADING =
  'Boot → reachable (from the edge agent reading config.toml to every service answering through the gateway):';

/** One line per check, then a verdict. */
export function formatCheck(lines: readonly CheckLine[]): string {
  const names = lines.map((l) => `${l.location} / ${l.service}`);
  const width = Math.max(0, ...names.map((n) => n.length));
  const body = lines.map((l, i) => `  ${l.ok ? 'ok  ' : 'FAIL'}  ${names[i]!.padEnd(width)}  ${l.detail}`);
  const failed = lines.filter((l) => !l.ok).length;
  const verdict =
    failed === 0
      ? `Check passed: ${lines.length} of ${lines.length} services answered through the gateway.`
      : `Check FAILED: ${failed} of ${lines.length} services did not answer as expected.`;
  return [...body, verdict].join('\n');
}

/** A one-line summary of a reconcile that changed something (quiet reconciles print nothing). */
export function formatReconcile(result: ReconcileResult): string | undefined {
  if (result.actionsDone === 0 && result.actionsFailed === 0 && result.outcome === 'converged')
    return undefined;
  const failed = result.actionsFailed > 0 ? `, ${result.actionsFailed} failed` : '';
  return `  fleet-controller: reconcile ${result.outcome}, ${result.actionsDone} actions${failed} in ${Math.round(result.durationMs)} ms`;
}

/** A path relative to `cwd` when it lies below it. */
export function showPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') || rel === '' ? path : rel;
}

/** Pads every cell to its column's width, two spaces between columns. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
