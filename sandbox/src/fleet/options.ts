// The fleet's command lines and environment: `npm start [-- --check]` and `npm run sandbox:add-location -- NAME`.
import { resolve } from 'node:path';
import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
} from '../../../modules/common/src/cli/command-line';
import { notRun, parseCheckRunArgs, type ParsedSandboxArgs } from '../demo/options';

/** Parsed `npm start` settings. */
export interface FleetArgs {
  /** Boot, verify every service, add one location, verify it, print the timings, stop (exit 0 when all passed). */
  readonly check: boolean;
  /** Where the CA (kept between runs), device files, logs and admin.json go. */
  readonly stateDir: string;
}

/** Usage text of `npm start`. */
export const FLEET_USAGE = `Usage: npm start [-- --check] [-- --state-dir <dir>]

  Runs the whole fleet on loopback: the sandbox Azure Relay, Relay ARM API, IoT Hub and DPS, the fleet
  controller, the automatic deployments, one gateway device and three locations (berlin, oslo, lyon), each
  booted through DPS by the IoT Edge agent stand-in, which runs relay-gateway / relay-forwarder as processes.
  Waits until every location's services answer through the gateway, prints them, then runs until Ctrl-C.
  Add a location while it runs: npm run sandbox:add-location -- NAME

  --check       verify every service through the gateway, add one location the way add-location does,
                verify it, print the timings, stop; exit 0 when everything passed (or FLEET_CHECK=1)
  --state-dir   state directory (default SANDBOX_STATE_DIR, else .sandbox-state); the CA in <dir>/pki is kept
                between runs, device files, logs and admin.json go to <dir>/fleet

  SANDBOX_RELAY_AUTH=entra  the modules authenticate to the relay with their machines' Microsoft Entra ID
                identities (sandbox managed identity endpoints) and the relay refuses SAS (docs/entra-id.md)
  SANDBOX_RELAY_NAMESPACES=2  two Relay namespaces (a sandbox relay each, one ARM endpoint): the controller
                places each location in one of them (docs/fleet-controller.md, Namespaces); with
                SANDBOX_RELAY_AUTH=entra every namespace's relay trusts the one sandbox Entra ID issuer

  The tunnel-only demo (no IoT Hub, modules on configuration files): npm run demo:tunnel
${STANDARD_USAGE_LINES}
Exit codes: 0 ran (and --check passed), 1 the check failed, 64 bad command line, 70 could not start,
75 a fleet already runs with this state directory.
`;

/** Usage text of `npm run sandbox:add-location`. */
export const ADD_LOCATION_USAGE = `Usage: npm run sandbox:add-location -- NAME [--state-dir <dir>]

  Asks the running fleet (npm start) to add location NAME (lower-case letters, digits, inner hyphens): it is
  onboarded with the provisioning functions, boots through DPS with its derived key, gets relay-forwarder from
  the automatic deployment and two sample services; the command prints its rows once they are reachable.

  --state-dir   the running fleet's state directory (default SANDBOX_STATE_DIR, else .sandbox-state)
${STANDARD_USAGE_LINES}
Exit codes: 0 added and reachable, 1 it did not become reachable, 64 bad command line, 65 the fleet refused
the name (invalid or taken), 69 no fleet is running.
`;

type Parsed<T> = ParsedSandboxArgs<T>;

/** Parses `npm start`'s argv (after the script) and the environment. */
export function parseFleetArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Parsed<FleetArgs> {
  return parseCheckRunArgs(argv, env, 'FLEET_CHECK');
}

/** Parsed add-location settings. */
export interface AddLocationArgs {
  readonly name: string;
  readonly stateDir: string;
}

/** Parses `sandbox:add-location`'s argv and the environment. */
export function parseAddLocationArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Parsed<AddLocationArgs> {
  const line = parseCommandLine(argv, { 'state-dir': { type: 'string' } }, { positionals: true });
  if (line.kind !== 'run') return notRun(line);
  const stateDirFlag = stringFlag(line.values, 'state-dir');
  if (stateDirFlag === '') return { ok: false, help: false, error: '--state-dir needs a value' };
  const stateDir = stateDirFlag ?? (env.SANDBOX_STATE_DIR || '.sandbox-state');
  const names = line.positionals;
  if (names.length !== 1)
    return { ok: false, help: false, error: names.length === 0 ? 'give the location NAME' : 'give one NAME' };
  return { ok: true, args: { name: names[0]!, stateDir: resolve(stateDir) } };
}
