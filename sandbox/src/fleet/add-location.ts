/**
 * `npm run sandbox:add-location -- NAME`: asks the running fleet (`npm start`) to add a location, waits until it
 * is reachable through the gateway, and prints its rows. Exit 0 done, 1 failed, 64 bad command line, 65 the
 * name was refused, 69 no fleet running.
 */
import { onPath } from '../demo/print';
import { AdminClientError, requestAddLocation } from './admin-client';
import { ADD_LOCATION_USAGE, parseAddLocationArgs } from './options';
import { formatTable, seconds, tryItLines } from './print';
import { answerParseFailure, wantsDebug } from '../../../modules/common/src/cli/command-line';
import { ExitCode } from '../../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../../modules/common/src/cli/failure';
import { createProgress } from '../../../modules/common/src/cli/progress';

/** Exit codes of add-location. */
export const AddLocationExitCode = {
  OK: ExitCode.OK,
  /** The location did not become reachable (the fleet says why). */
  FAILED: ExitCode.FAILED,
  USAGE: ExitCode.USAGE,
  /** The fleet refused the name (invalid, taken, or the fleet is stopping). */
  REFUSED: ExitCode.DATA,
  NO_FLEET: ExitCode.UNAVAILABLE,
} as const;

async function main(): Promise<number> {
  const parsed = parseAddLocationArgs(process.argv.slice(2));
  if (!parsed.ok) return answerParseFailure('add-location', ADD_LOCATION_USAGE, parsed, process);
  const { name, stateDir } = parsed.args;
  process.stdout.write(`Adding location ${name} to the running fleet…\n`);
  const progress = createProgress(process.stdout);
  // The fleet does the work (about 11 s); the live line shows that it runs and for how long.
  const step = progress.start(
    `location ${name}: provisioned, booted through DPS, relay-forwarder up, reachable through the gateway`,
  );
  try {
    const answer = await requestAddLocation(stateDir, name);
    step.done();
    progress.close();
    const out = [
      `Location ${answer.location} is reachable: boot → reachable ${seconds(answer.timings.reachableMs)} (DPS registration ${seconds(answer.timings.dpsMs)}; whole request ${seconds(answer.totalMs)})`,
      '',
      formatTable(answer.rows),
      '',
      'Try it:',
      ...tryItLines(answer.rows, { hasNc: onPath('nc') }).map((l) => `  ${l}`),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return AddLocationExitCode.OK;
  } catch (err) {
    const code = err instanceof AdminClientError ? err.code : undefined;
    step.fail(code === 'NO_FLEET' ? 'no fleet' : code === 'REFUSED' ? 'refused' : 'failed');
    progress.close();
    if (!(err instanceof AdminClientError)) throw err;
    const hint = err.code === 'REFUSED' ? ' — choose another NAME (see --help)' : '';
    process.stderr.write(`add-location: ${err.message}${hint}\n`);
    if (err.code === 'NO_FLEET') return AddLocationExitCode.NO_FLEET;
    return err.code === 'REFUSED' ? AddLocationExitCode.REFUSED : AddLocationExitCode.FAILED;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(failureExit('add-location', err, process.stderr, wantsDebug(process.argv))),
);
