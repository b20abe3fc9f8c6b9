/**
 * `npm start`: the whole fleet in the sandbox. Starts the sandbox Relay, Relay ARM API, IoT Hub and DPS, the fleet
 * controller, the automatic deployments, one gateway device and three locations that boot through DPS, waits until
 * every service answers through the gateway, prints the table, lines to try and boot → reachable times, and runs
 * until Ctrl-C (SIGINT), SIGTERM or SIGHUP, which stop everything (exit 0). `--check` verifies, adds a location
 * the way `npm run sandbox:add-location` does, verifies it and stops.
 */
import { adminFilePath, isAlive, readAdminFile, requestAddLocation } from './admin-client';
import { startAdminServer, type AdminServer } from './admin-server';
import { join } from 'node:path';
import { formatFleetBanner } from './banner';
import { onPath } from '../demo/print';
import type { FleetLocation, FleetRow } from './location';
import { FLEET_USAGE, parseFleetArgs } from './options';
import { CHECK_ADDED_LOCATION, GATEWAY_DEVICE_ID } from './plan';
import {
  formatCheck,
  formatReconcile,
  formatTable,
  formatTimings,
  seconds,
  showPath,
  TIMINGS_HEADING,
  tryItLines,
  type CheckLine,
} from './print';
import { probeService } from './probe';
import type { Fleet } from './world';
import { answerParseFailure, wantsDebug } from '../../../modules/common/src/cli/command-line';
import { ExitCode } from '../../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../../modules/common/src/cli/failure';
import { createProgress } from '../../../modules/common/src/cli/progress';
import type { FleetDocument } from '../../../cloud/src/status';

/** Exit codes of `npm start`. */
export const FleetExitCode = {
  OK: ExitCode.OK,
  /** --check: a service, the added location or the status view failed. */
  FAILED: ExitCode.FAILED,
  USAGE: ExitCode.USAGE,
  /** The fleet could not start (one line; the stack trace with --debug). */
  SOFTWARE: ExitCode.SOFTWARE,
  /** A fleet already runs with this state directory. */
  TEMP_FAIL: ExitCode.TEMP_FAIL,
} as const;

const out = (text: string): void => void process.stdout.write(`${text}\n`);

async function main(): Promise<number> {
  const parsed = parseFleetArgs(process.argv.slice(2));
  if (!parsed.ok) return answerParseFailure('fleet', FLEET_USAGE, parsed, process);
  const { args } = parsed;
  const running = await readAdminFile(args.stateDir).catch(() => undefined);
  if (running && isAlive(running.pid) && running.pid !== process.pid) {
    process.stderr.write(
      `fleet: a fleet is already running with this state directory (pid ${running.pid}); stop it first, or use --state-dir\n`,
    );
    return FleetExitCode.TEMP_FAIL;
  }

  // Signals are taken from the start: Ctrl-C during start-up must still stop the children.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => (signalled ??= signal);
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // A closed terminal: without a handler the fleet would die and leave its module processes running.
  process.on('SIGHUP', handler);

  let live = false;
  out(
    'Starting the sandbox Relay, Relay ARM, IoT Hub and DPS, the fleet controller, the automatic deployments,',
  );
  out(
    'a gateway device and three locations booting through DPS (each a relay-forwarder and two sample services)…',
  );
  // What boots now and what is done (a live line on a terminal): start-up takes 15-20 s.
  const progress = createProgress(process.stdout);
  let fleet: Fleet;
  try {
    // Loaded only now: the whole fleet's code takes seconds to load, which --help and a bad flag need not wait for.
    const { startFleet } = await import('./world');
    fleet = await startFleet({
      stateDir: args.stateDir,
      // SANDBOX_RELAY_AUTH=entra: the modules use their machines' Entra ID identities, the relay refuses SAS.
      ...(process.env.SANDBOX_RELAY_AUTH === 'entra' && { relayAuth: 'entra' as const }),
      // SANDBOX_RELAY_NAMESPACES=2: two Relay namespaces; the controller spreads the locations over both.
      ...(process.env.SANDBOX_RELAY_NAMESPACES === '2' && { relayNamespaces: 2 }),
      progress,
      onReconcile: (result) => {
        const line = live ? formatReconcile(result) : undefined;
        if (line) out(line);
      },
    });
  } catch (err) {
    progress.close();
    if (signalled) return FleetExitCode.OK;
    process.stderr.write(`fleet: could not start: ${(err as Error).message}\n`);
    if (wantsDebug(process.argv)) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return FleetExitCode.SOFTWARE;
  } finally {
    progress.close();
  }
  let admin: AdminServer | undefined;
  const stop = async (why: string): Promise<void> => {
    out(
      `\n${why}: stopping the devices (their modules), the sample services, the controller and the sandbox…`,
    );
    await Promise.all([admin?.close(), fleet.stop()]);
    out('Stopped.');
  };
  try {
    admin = await startAdminServer(adminFilePath(args.stateDir), async (name) => {
      const location = await fleet.addLocation(name);
      printAdded(location);
      return location;
    });
  } catch (err) {
    await stop('admin endpoint failed');
    process.stderr.write(`fleet: could not start the admin endpoint: ${(err as Error).message}\n`);
    return FleetExitCode.FAILED;
  }
  if (signalled) {
    await stop(signalled);
    return FleetExitCode.OK;
  }

  const locations = fleet.locations();
  const rows = locations.flatMap((l) => l.rows);
  out('');
  out(
    formatFleetBanner({
      relayNamespace: fleet.infra.relay.namespace,
      armEndpoint: fleet.infra.arm.endpoint,
      hubHost: fleet.infra.hub.hostName,
      dpsHost: fleet.infra.dps.hostName,
      idScope: fleet.infra.dps.idScope,
      caFile: fleet.infra.caFile,
      pool: fleet.pool,
      deployments: fleet.deployments,
      gatewayDevice: GATEWAY_DEVICE_ID,
      gatewayPid: fleet.gateway.modules().find((m) => m.name === 'relay-gateway')?.pid,
      locations: locations.length,
      logDir: fleet.logDir,
      adminFile: adminFilePath(args.stateDir),
      statusUrl: fleet.status.url,
      envFile: fleet.envFile,
    }),
  );
  out('');
  out(formatTable(rows));
  out('');
  out('Try it:');
  for (const line of tryItLines(rows, { hasNc: onPath('nc') })) out(`  ${line}`);
  out('');
  out(TIMINGS_HEADING);
  out(formatTimings(locations));
  out(controllerLine(fleet));
  live = true;

  if (args.check || signalled) {
    const passed = signalled ? false : await runCheck(fleet, args.stateDir, rows);
    await stop(signalled ?? 'check done');
    return passed || signalled ? FleetExitCode.OK : FleetExitCode.FAILED;
  }

  out('');
  out('Running. Add a location: npm run sandbox:add-location -- NAME   Ctrl-C stops everything.');
  const why = await new Promise<string>((resolve) => {
    onSignal = (signal) => resolve(signal);
    if (signalled) resolve(signalled);
  });
  // A second Ctrl-C while stopping is ignored: the stop is bounded (modules get SIGKILL after 10 s).
  onSignal = () => undefined;
  await stop(why);
  return FleetExitCode.OK;
}

/** Verifies every service again, adds a location through the admin endpoint, verifies it; true when all passed. */
async function runCheck(fleet: Fleet, stateDir: string, rows: readonly FleetRow[]): Promise<boolean> {
  out('');
  out(
    'Check: every service through the gateway (HTTP page names its location and service; echo bytes by SHA-256)',
  );
  const first = await verify(rows);
  out(formatCheck(first));
  out('');
  out(`Check: adding location ${CHECK_ADDED_LOCATION} while the fleet runs (the add-location request)…`);
  let added: FleetRow[];
  try {
    const answer = await requestAddLocation(stateDir, CHECK_ADDED_LOCATION);
    added = [...answer.rows];
    out(`  provisioned and reachable in ${seconds(answer.totalMs)} (request to answer)`);
  } catch (err) {
    out(`  FAIL  could not add ${CHECK_ADDED_LOCATION}: ${(err as Error).message}`);
    return false;
  }
  const second = await verify(added);
  out(formatCheck(second));
  out('');
  out(`Check: the status view (${fleet.status.url}) shows every location with its public ports`);
  const statusOk = await verifyStatusView(fleet, [...rows, ...added]);
  out(statusOk.ok ? `  ok    ${statusOk.detail}` : `  FAIL  ${statusOk.detail}`);
  out('');
  out(TIMINGS_HEADING);
  out(formatTimings(fleet.locations()));
  out(controllerLine(fleet));
  return [...first, ...second].every((l) => l.ok) && added.length > 0 && statusOk.ok;
}

/** Reads `/api/fleet` as the page does and checks each row's location and public port are on it. */
async function verifyStatusView(
  fleet: Fleet,
  rows: readonly FleetRow[],
): Promise<{ ok: boolean; detail: string }> {
  try {
    await fleet.status.refresh();
    const response = await fetch(new URL('api/fleet', fleet.status.url));
    const doc = (await response.json()) as FleetDocument;
    const shown = new Set(
      (doc.snapshot?.locations ?? []).flatMap((l) => l.services.map((svc) => `${l.id}/${svc.publicPort}`)),
    );
    const missing = rows.filter((r) => !shown.has(`${r.location}/${r.publicPort}`));
    return missing.length === 0
      ? {
          ok: true,
          detail: `${rows.length} services of ${new Set(rows.map((r) => r.location)).size} locations listed`,
        }
      : { ok: false, detail: `missing: ${missing.map((r) => `${r.location}/${r.service}`).join(', ')}` };
  } catch (err) {
    return { ok: false, detail: `status view unreadable: ${(err as Error).message}` };
  }
}

async function verify(rows: readonly FleetRow[]): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  for (const row of rows) {
    const result = await probeService(row);
    lines.push({ location: row.location, service: row.service, ...result });
  }
  return lines;
}

function printAdded(location: FleetLocation): void {
  out('');
  out(`Added location ${location.name}: boot → reachable ${seconds(location.timings.reachableMs)}`);
  out(formatTable(location.rows));
}

function controllerLine(fleet: Fleet): string {
  const s = fleet.controllerSummary();
  const failed = s.failedActions + s.failedReconciles > 0 ? `, ${s.failedActions} actions failed` : '';
  return `fleet-controller: ${s.reconciles} reconciles, ${s.actions} actions${failed} so far (one log line per action: ${showPath(join(fleet.logDir, 'fleet-controller.log'))})`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(failureExit('fleet', err, process.stderr, wantsDebug(process.argv))),
);
