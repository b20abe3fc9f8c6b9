import { VARIANT_NAMES } from './options';
import type { BenchReport } from './report';

const GiB = 1024 * 1024 * 1024;

function cell(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** The human-readable summary of a report. */
export function formatTable(report: BenchReport): string {
  const s = report.settings;
  const lines: string[] = [];
  lines.push(
    `relay tunnel bench — ${report.machine.cpus}× ${report.machine.cpuModel}, node ${report.machine.node}, ` +
      `${Math.round(report.durationMs / 1000)} s, load average ${report.machine.loadAverageAtStart} → ` +
      `${report.machine.loadAverageAtEnd}`,
  );
  lines.push(
    `bulk ${s.bulkMiB} MiB per measurement (1 stream, then ${s.parallelStreams}) in ${s.bulkRounds} rounds, sha256 ` +
      `checked; latency over ` +
      `${s.latencyConnections} sequential connections; ${s.idleConnections} idle connections held ${s.idleHoldMs} ms`,
  );
  lines.push('');
  const widths = [9, 10, 10, 8, 8, 7, 9, 9, 9, 9, 7];
  lines.push(
    row(
      [
        'variant',
        '1× MB/s',
        `${s.parallelStreams}× MB/s`,
        'p50 ms',
        'p99 ms',
        'conn err',
        'idle err',
        'gw MiB',
        'fwd MiB',
        'KiB/conn',
        'status',
      ],
      widths,
    ),
  );
  for (const name of VARIANT_NAMES) {
    const v = report.variants[name];
    if (!v) continue;
    const idle = v.idle;
    const gw = idle?.processes.gateway;
    const fwd = idle?.processes.forwarder;
    const perConn = gw && fwd ? gw.perConnectionKiB + fwd.perConnectionKiB : undefined;
    lines.push(
      row(
        [
          name,
          cell(v.throughput?.singleStream.MBps),
          cell(v.throughput?.parallel.MBps),
          cell(v.latency?.p50Ms, 2),
          cell(v.latency?.p99Ms, 2),
          v.latency ? String(v.latency.errors) : '-',
          idle ? String(idle.errors) : '-',
          cell(gw?.peakRssMiB),
          cell(fwd?.peakRssMiB),
          cell(perConn),
          v.status,
        ],
        widths,
      ),
    );
  }
  lines.push(
    '(gw/fwd MiB: peak RSS of the sender-side and listener-side processes with the idle connections open;',
  );
  lines.push(' KiB/conn: their growth per idle connection, both processes together)');
  lines.push('');
  lines.push('CPU ms per GiB, single stream (gateway / relay / forwarder / client+target):');
  for (const name of VARIANT_NAMES) {
    const bulk = report.variants[name]?.throughput?.singleStream;
    if (!bulk || bulk.status !== 'ok') continue;
    const per = (role: string): string => cell(((bulk.cpuMs[role] ?? NaN) * GiB) / bulk.bytes, 0);
    lines.push(
      `  ${name.padEnd(9)} ${per('gateway')} / ${per('relay')} / ${per('forwarder')} / ${per('client+target')}`,
    );
  }
  lines.push('');
  for (const [pair, r] of Object.entries(report.ratios)) {
    lines.push(
      `${pair.padEnd(14)} throughput ${cell(r.throughputSingle, 2)}× (1 stream) ${cell(r.throughputParallel, 2)}× ` +
        `(${s.parallelStreams} streams), latency p50 ${cell(r.latencyP50, 2)}× p99 ${cell(r.latencyP99, 2)}×`,
    );
  }
  if (report.relay)
    lines.push(
      `relay: peak RSS ${cell(report.relay.peakRssMiB)} MiB, ${report.relay.tunnelsOpened} tunnels, ` +
        `${report.relay.backpressurePauses} backpressure pauses (bound ${report.relay.maxInFlightBytesPerDirection / 1048576} MiB ` +
        `in flight per direction, ${report.relay.maxListenersPerHybridConnection} listeners per HC)`,
    );
  lines.push('');
  for (const t of report.targets)
    lines.push(`${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${cell(t.value, 3)}`);
  for (const name of VARIANT_NAMES) {
    const v = report.variants[name];
    for (const e of v?.errors ?? []) lines.push(`${name} FAILED: ${e}`);
  }
  return lines.join('\n');
}
