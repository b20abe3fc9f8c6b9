/**
 * `npm run sandbox:add-location -- NAME`: asks the running fleet (`npm start`) to add a location, waits until it
 * is reachable through the gateway, and prints its rows. Exit 0 done, 1 refused or failed, 64 bad command line,
 * 69 no fleet running.
 */
import { onPath } from '../demo/print';
import { AdminClientError, requestAddLocation } from './admin-client';
import { ADD_LOCATION_USAGE, parseAddLocationArgs } from './options';
import { formatTable, seconds, tryItLines } from './print';

/** Exit codes of add-location. */
export const AddLocationExitCode = { OK: 0, FAILED: 1, USAGE: 64, NO_FLEET: 69 } as const;

async function main(): Promise<number> {
  const parsed = parseAddLocationArgs(process.argv.slice(2));
  if (!parsed.ok) {
    if (parsed.help) {
      process.stdout.write(ADD_LOCATION_USAGE);
      return AddLocationExitCode.OK;
    }
    process.stderr.write(`add-location: ${parsed.error}\n${ADD_LOCATION_USAGE}`);
    return AddLocationExitCode.USAGE;
  }
  const { name, stateDir } = parsed.args;
  process.stdout.write(`Adding location ${name} to the running fleet…\n`);
  try {
    const answer = await requestAddLocation(stateDir, name);
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
    process.stderr.write(`add-location: ${(err as Error).message}\n`);
    if (err instanceof AdminClientError && err.code === 'NO_FLEET') return AddLocationExitCode.NO_FLEET;
    return AddLocationExitCode.FAILED;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`add-location: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(AddLocationExitCode.FAILED);
  },
);
