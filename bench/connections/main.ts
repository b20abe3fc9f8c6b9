/**
 * `npm run bench:connections`: what opening and holding connections costs through relay-gateway and
 * relay-forwarder, per gateway mode (cold, warm; multiplexed later), against one sandbox relay over TLS:
 * connection-per-request throughput against direct, 10,000 held idle connections (memory and relay connections),
 * fairness of an interactive stream beside a bulk one, and bulk against the bare baseline tunnel.
 * See docs/benchmarks.md.
 *
 *   npm run bench:connections -- [--workloads requests,concurrent,fairness,bulk] [--modes cold,warm,mux] [--json] ...
 *
 * Exit codes: 0 every workload passed (missed goals are figures), 1 a workload failed, 64 bad command line,
 * 70 the bench itself broke.
 */
import { answerParseFailure } from '../../modules/common/src/cli/command-line';
import { runMain } from '../../modules/common/src/cli/run-main';
import { CONNECTIONS_USAGE, parseConnectionsArgs } from './options';
import { runConnectionsBench } from './run';
import { formatConnectionsTable } from './table';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseConnectionsArgs(argv);
  if (!parsed.ok) return answerParseFailure('bench:connections', CONNECTIONS_USAGE, parsed, process);
  const log = (line: string): void => {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
  };
  const report = await runConnectionsBench(parsed.options, log);
  const table = formatConnectionsTable(report);
  if (parsed.options.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${table}\n`);
  }
  return report.ok ? 0 : 1;
}

runMain('bench:connections', main, { exit: 'natural' });
