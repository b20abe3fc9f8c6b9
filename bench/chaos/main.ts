/**
 * The fault suite: `npm run chaos [-- --ci] [-- --case NAME]...` runs the cases against real processes (sandbox
 * relay, relay-gateway, relay-forwarder) and prints one Markdown table (docs/chaos.md). Exit code 1 if a case fails.
 */
import { formatTable, runCases, selectCases } from './run';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--case' && argv[i + 1]) names.push(argv[++i]!);
  const cases = selectCases(names, argv.includes('--ci'));
  const started = Date.now();
  const results = await runCases(cases, (line) => process.stderr.write(`${line}\n`));
  console.log(formatTable(results));
  console.log(
    `\n${results.filter((r) => r.pass).length}/${results.length} cases passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (results.some((r) => !r.pass)) process.exitCode = 1;
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
