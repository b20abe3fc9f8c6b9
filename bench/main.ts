/**
 * `npm run bench`: throughput, latency and memory of direct TCP, a bare baseline tunnel, hyco-ws and our
 * relay-gateway + relay-forwarder, side by side through one sandbox relay over TLS. See docs/benchmarks.md.
 *
 *   npm run bench -- [--json] [--variants ours,baseline] [--total-mib N] [--connections N] [--idle N] ...
 *
 * Exit codes: 0 every variant passed (targets missed are figures, not failures), 1 a variant failed (a wrong
 * digest, connection errors, a crashed process), 64 bad command line, 70 the bench itself broke.
 */
import { parseBenchArgs, USAGE } from './options';
import { runBench } from './run';
import { formatTable } from './table';

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (!parsed.ok) {
    if (parsed.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`bench: ${parsed.error}\n${USAGE}`);
    return 64;
  }
  const report = await runBench(parsed.options, log);
  const table = formatTable(report);
  if (parsed.options.json) {
    // stdout carries exactly one JSON object; the table goes with the logs.
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${table}\n`);
  }
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
