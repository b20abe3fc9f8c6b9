import type { ConnectionsReport, PathReport } from './report';

function cell(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

function section(
  lines: string[],
  title: string,
  header: readonly string[],
  widths: readonly number[],
  rows: Array<readonly string[]>,
): void {
  if (rows.length === 0) return;
  lines.push('', title, row(header, widths));
  for (const r of rows) lines.push(row(r, widths));
}

/** The human-readable summary of a connections report, in the style of the main bench's table. */
export function formatConnectionsTable(report: ConnectionsReport): string {
  const s = report.settings;
  const m = report.machine;
  const entries = Object.entries(report.paths) as Array<[string, PathReport]>;
  const lines: string[] = [
    `relay connections bench — ${m.cpus}× ${m.cpuModel}, node ${m.node}, ${Math.round(report.durationMs / 1000)} s, ` +
      `load average ${m.loadAverageAtStart} → ${m.loadAverageAtEnd}, open-file limit ${m.openFileLimit || '-'}`,
    `modes: ${s.modes.map((mode) => `${mode} (${report.paths[mode]?.description ?? '?'})`).join('; ')}`,
  ];
  const direct = report.paths.direct?.requests?.requestsPerSecond;
  section(
    lines,
    `connection-per-request: ${s.clients} clients, ~100-byte request, ~1 KiB answer, target closes; ` +
      `${s.rounds} × ${s.roundMs} ms per path`,
    [
      'path',
      'req/s',
      'x direct',
      'p50 ms',
      'p99 ms',
      'requests',
      'errors',
      'CPU ms/req gw / relay / fwd / bench',
    ],
    [9, 8, 9, 8, 8, 9, 7, 36],
    entries
      .filter(([, p]) => p.requests)
      .map(([name, p]) => {
        const r = p.requests!;
        return [
          name,
          cell(r.requestsPerSecond, 0),
          cell(r.requestsPerSecond !== null && direct ? r.requestsPerSecond / direct : null, 2),
          cell(r.p50Ms, 2),
          cell(r.p99Ms, 2),
          String(r.requests),
          String(r.errors),
          ['gateway', 'relay', 'forwarder', 'client+target']
            .map((role) => cell(r.cpuMsPerRequest[role], 2))
            .join(' / '),
        ];
      }),
  );
  const directTps = report.paths.direct?.pgbench?.tps;
  section(
    lines,
    `pgbench -C -S (a new PostgreSQL connection per select-only transaction): ${s.clients} clients, ` +
      `${s.rounds} rounds per path`,
    ['path', 'tps', 'x direct', 'transactions', 'failed'],
    [9, 9, 9, 12, 7],
    entries
      .filter(([, p]) => p.pgbench)
      .map(([name, p]) => {
        const r = p.pgbench!;
        return [
          name,
          cell(r.tps),
          cell(r.tps !== null && directTps ? r.tps / directTps : null, 2),
          String(r.transactions),
          String(r.failedTransactions),
        ];
      }),
  );
  const heldCount = entries.find(([, p]) => p.concurrent)?.[1].concurrent?.connections ?? s.concurrent;
  const limited =
    heldCount < s.concurrent ? ` (of ${s.concurrent} asked: what the open-file limit allows)` : '';
  section(
    lines,
    `held connections: ${heldCount}${limited} idle through one route (${s.rampConcurrency} opening at a time), ` +
      `held ${s.holdMs} ms; KiB/conn = (RSS held − RSS before) / connections`,
    [
      'mode',
      'open s',
      'held',
      'errors',
      'gw MiB',
      'gw KiB/c',
      'fwd MiB',
      'fwd KiB/c',
      'relay KiB/c',
      'relay conns',
    ],
    [9, 7, 7, 7, 15, 9, 15, 9, 11, 11],
    entries
      .filter(([, p]) => p.concurrent)
      .map(([name, p]) => {
        const c = p.concurrent!;
        const gw = c.processes.gateway;
        const fwd = c.processes.forwarder;
        return [
          name,
          cell(c.openMs / 1000),
          `${c.verifiedAfterHold}`,
          String(c.errors),
          `${cell(gw?.rssBeforeMiB)} → ${cell(gw?.rssHeldMiB)}`,
          cell(gw?.perConnectionKiB),
          `${cell(fwd?.rssBeforeMiB)} → ${cell(fwd?.rssHeldMiB)}`,
          cell(fwd?.perConnectionKiB),
          cell(c.relay.perConnectionKiB),
          c.relayTunnels === null ? '-' : String(c.relayTunnels),
        ];
      }),
  );
  if (entries.some(([, p]) => p.concurrent))
    lines.push(
      '(relay conns: tunnels open during the hold, each one sender and one listener WebSocket; the goal of ≤ 16',
      ' needs multiplexed streams, which cold and warm do not have; relay KiB/c: the shared relay, not fresh)',
    );
  section(
    lines,
    `fairness: 1-byte round trips on one connection, idle vs beside a bulk upload on the same route ` +
      `(${s.fairnessSamples} each, ${s.fairnessRounds} rounds)`,
    ['path', 'idle p50', 'idle p99', 'bulk p50', 'bulk p99', 'p99 ×', 'bulk MB/s', 'sha256'],
    [9, 9, 9, 9, 9, 7, 9, 7],
    entries
      .filter(([, p]) => p.fairness)
      .map(([name, p]) => {
        const f = p.fairness!;
        return [
          name,
          cell(f.idle?.p50Ms, 3),
          cell(f.idle?.p99Ms, 3),
          cell(f.beside?.p50Ms, 3),
          cell(f.beside?.p99Ms, 3),
          cell(f.p99Ratio, 2),
          cell(f.bulkMBps),
          `${f.bulkSha256Verified}/${f.rounds}`,
        ];
      }),
  );
  const base = report.paths.baseline?.bulk;
  section(
    lines,
    `bulk: ${s.bulkMiB} MiB per measurement (1 stream, then ${s.bulkStreams}) in ${s.bulkRounds} rounds, sha256 checked`,
    ['path', '1× MB/s', `${s.bulkStreams}× MB/s`, 'x base 1', `x base ${s.bulkStreams}`, 'status'],
    [9, 9, 9, 9, 9, 7],
    entries
      .filter(([, p]) => p.bulk)
      .map(([name, p]) => {
        const one = p.bulk!.singleStream;
        const par = p.bulk!.parallel;
        const x = (a: number | null | undefined, b: number | null | undefined) =>
          cell(a && b ? a / b : null, 2);
        const ok = one?.status === 'ok' && par?.status === 'ok';
        return [
          name,
          cell(one?.MBps),
          cell(par?.MBps),
          x(one?.MBps, base?.singleStream?.MBps),
          x(par?.MBps, base?.parallel?.MBps),
          ok ? 'ok' : 'failed',
        ];
      }),
  );
  lines.push('');
  for (const g of report.goals) lines.push(`${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${cell(g.value, 3)}`);
  for (const [name, p] of entries) {
    for (const e of p.errors) lines.push(`${name} FAILED: ${e}`);
    const parts = {
      requests: p.requests,
      pgbench: p.pgbench,
      concurrent: p.concurrent,
      fairness: p.fairness,
    };
    for (const [what, part] of Object.entries(parts))
      if (part && part.status !== 'ok')
        lines.push(
          `${name} FAILED: ${what}: ${JSON.stringify('errorSamples' in part ? part.errorSamples : part.errors)}`,
        );
    for (const b of [p.bulk?.singleStream, p.bulk?.parallel])
      if (b && b.status !== 'ok') lines.push(`${name} FAILED: bulk: ${b.errors[0] ?? 'failed'}`);
  }
  return lines.join('\n');
}
