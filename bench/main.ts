/**
 * `npm run bench`: throughput, latency and memory of direct TCP, a bare baseline tunnel, hyco-ws and our
 * relay-gateway + relay-forwarder, side by side through one sandbox relay over TLS. See docs/benchmarks.md.
 *
 *   npm run bench -- [--json] [--variants ours,baseline] [--total-mib N] [--connections N] [--idle N] ...
 *
 * Exit codes: 0 every variant passed (targets missed are figures, not failures), 1 a variant failed (a wrong
 * digest, connection errors, a crashed process), 64 bad command line, 70 the bench itself broke.
 */
import { answerParseFailure } from '../modules/common/src/cli/command-line';
import { runMain } from '../modules/common/src/cli/run-main';
import { createProgress } from '../modules/common/src/cli/progress';
import { parseBenchArgs, USAGE } from './options';
import { runBench } from './run';
import { formatTable } from './table';

/**
 * Progress on stderr (stdout carries the table or the JSON): on a terminal each phase is a live line with its
 * elapsed time and leaves a ✓ line when the next begins; otherwise the timestamped lines as before.
 */
function phaseLog(): { log: (line: string) => void; close: () => void } {
  if (process.stderr.isTTY !== true) {
    return {
      log: (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`),
      close: () => undefined,
    };
  }
  const progress = createProgress(process.stderr, { indent: '' });
  let phase = progress.start('starting');
  return {
    log: (line) => {
      phase.done();
      phase = progress.start(line);
    },
    close: () => {
      phase.done();
      progress.close();
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (!parsed.ok) return answerParseFailure('bench', USAGE, parsed, process);
  const phases = phaseLog();
  const report = await runBench(parsed.options, phases.log).finally(phases.close);
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

runMain('bench', main, { exit: 'natural' });
