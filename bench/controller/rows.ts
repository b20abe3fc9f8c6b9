// The controller bench's result rows and the text table it prints.

/** One measured step: planning only, a reconcile against in-memory stand-ins, or one against the sandbox. */
export interface Row {
  part: 'planning' | 'in-memory' | 'sandbox';
  scenario: string;
  totalMs: number;
  observeMs?: number;
  planMs?: number;
  actions?: number;
  passes?: number;
  outcome?: string;
  /** The bench process's CPU time: the controller's alone (the stand-ins run in processes of their own). */
  cpuMs?: number;
  /** The sandbox IoT Hub process's CPU time in the same step. */
  hubCpuMs?: number;
  /** The sandbox ARM (and relays) process's CPU time in the same step. */
  armCpuMs?: number;
  rssMb?: number;
  /** The 1-minute load average after the step (the machine is shared). */
  load?: number;
}

/** The rows as an aligned text table (numbers right-aligned). */
export function table(rows: Row[]): string {
  const f = (n: number | undefined) => (n === undefined ? '' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const head = [
    'part',
    'scenario',
    'total ms',
    'read ms',
    'plan ms',
    'actions',
    'passes',
    'ctl cpu ms',
    'hub cpu ms',
    'arm cpu ms',
    'rss MB',
    'load',
    'outcome',
  ];
  const body = rows.map((r) => [
    r.part,
    r.scenario,
    f(r.totalMs),
    f(r.observeMs),
    f(r.planMs),
    String(r.actions ?? ''),
    String(r.passes ?? ''),
    f(r.cpuMs),
    f(r.hubCpuMs),
    f(r.armCpuMs),
    f(r.rssMb),
    r.load === undefined ? '' : r.load.toFixed(1),
    r.outcome ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 && i <= 11 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
