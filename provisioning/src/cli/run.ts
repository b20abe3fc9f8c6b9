import { ConnectionString } from 'azure-iothub';
import path from 'node:path';
import { wantsDebug } from '../../../modules/common/src/cli/command-line';
import { projectVersion } from '../../../modules/common/src/cli/version';
import { createProgress } from '../../../modules/common/src/cli/progress';
import { createProvisioningServiceClient } from '../../../cloud/src/azure/dps-clients';
import { HubBudget } from '../../../cloud/src/azure/hub-budget';
import { createIotHubServiceClients } from '../../../cloud/src/azure/iothub-service-clients';
import type { DeploymentResult } from '../adm/apply';
import { provisionDeployments } from '../adm/provision-deployments';
import {
  commonPlatforms,
  findRepoRoot,
  formatProblems,
  isDeploymentError,
  loadModules,
  loadVariables,
} from '../deployment';
import { isProvisioningError, ProvisioningError, type ProvisioningErrorCode } from '../errors';
import { writeRelayTag } from '../location/device-twin';
import { endpointHost, provisionDevice, type ProvisionDeviceResult } from '../location/provision-device';
import { relayTagValue } from '../location/tags';
import {
  parseProvisionArgs,
  USAGE,
  type DeploymentsCommand,
  type DeviceCommand,
  type RemoveCommand,
} from './args';
import { checkDeclaredPool, gatewayPoolsInHub, poolNamesOf } from './preflight';
import { requireSettings, resolveConnection, type ResolvedConnection } from './settings';

/** Process exit codes (sysexits.h). */
export const EXIT = {
  OK: 0,
  USAGE: 64,
  DATA: 65,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANT_CREATE: 73,
  TEMP_FAIL: 75,
  NO_PERM: 77,
} as const;

const EXIT_BY_CODE: Record<ProvisioningErrorCode, number> = {
  PROVISION_BAD_INPUT: EXIT.USAGE,
  PROVISION_ENROLLMENT_CONFLICT: EXIT.DATA,
  PROVISION_HUB_MISMATCH: EXIT.DATA,
  PROVISION_DEPLOYMENT_CONFLICT: EXIT.DATA,
  PROVISION_DPS_FAILED: EXIT.UNAVAILABLE,
  PROVISION_IOTHUB_FAILED: EXIT.UNAVAILABLE,
  PROVISION_CREDENTIAL_REFUSED: EXIT.NO_PERM,
  PROVISION_DEVICE_NOT_FOUND: EXIT.DATA,
  PROVISION_WRITE_FAILED: EXIT.CANT_CREATE,
  PROVISION_CONCURRENT_CHANGE: EXIT.TEMP_FAIL,
};

/** What the CLI runs with: its environment, output streams and working directory. */
export interface ProvisionCliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly cwd: string;
  /** Extra CA for DPS and IoT Hub (in-process callers; a process uses NODE_EXTRA_CA_CERTS). */
  readonly ca?: string;
}

/** Runs `provision …` and resolves with the exit code; errors are printed, never thrown. Never prints a key. */
export async function runProvisionCli(argv: readonly string[], io: ProvisionCliIo): Promise<number> {
  let command: ReturnType<typeof parseProvisionArgs>;
  try {
    command = parseProvisionArgs(argv);
  } catch (err) {
    if (!isProvisioningError(err, 'PROVISION_BAD_INPUT')) throw err;
    // A bad command line is answered with the usage, like every command of the project.
    io.stderr.write(`provision: ${err.message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  try {
    if (command.kind === 'help') {
      io.stdout.write(USAGE);
      return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
    }
    if (command.kind === 'version') {
      io.stdout.write(`provision ${projectVersion()}\n`);
      return EXIT.OK;
    }
    if (command.kind === 'deployments') await runDeployments(command, io);
    else if (command.kind === 'remove') await runRemove(command, io);
    else await runDevice(command, io);
    return EXIT.OK;
  } catch (err) {
    if (isProvisioningError(err)) {
      io.stderr.write(`provision: ${err.message}${err.retryable ? ' (retryable)' : ''}\n`);
      if (err.code === 'PROVISION_BAD_INPUT') io.stderr.write('Run with --help for usage.\n');
      if (wantsDebug(argv)) io.stderr.write(`${err.stack ?? ''}\n`);
      return EXIT_BY_CODE[err.code];
    }
    if (isDeploymentError(err)) {
      io.stderr.write(`provision: ${err.message.split('\n')[0]}\n`);
      if (err.problems.length > 0) io.stderr.write(`${formatProblems(err.problems)}\n`);
      return EXIT.DATA;
    }
    io.stderr.write(
      `provision: unexpected failure: ${err instanceof Error ? err.message : String(err)}${wantsDebug(argv) ? `\n${(err as Error).stack ?? ''}` : ' (run again with --debug for the stack trace)'}\n`,
    );
    return EXIT.SOFTWARE;
  }
}

async function runDevice(command: DeviceCommand, io: ProvisionCliIo): Promise<void> {
  const settings = requireSettings(resolveConnection(command.connection, io.env), [
    'dpsConnectionString',
    'iothubConnectionString',
    'idScope',
  ]);
  const ca = io.ca !== undefined ? { ca: io.ca } : {};
  const hub = createIotHubServiceClients(settings.iothubConnectionString, { ...ca, ...budgetOf(settings) });
  // With --json stdout carries exactly one object: progress goes to stderr then.
  const progress = createProgress(command.json ? io.stderr : io.stdout);
  try {
    const hubHostName = hostNameOf(settings.iothubConnectionString);
    endpointHost(settings.globalEndpoint);
    const controllerPools = command.connection.pools ?? io.env.CONTROLLER_POOLS;
    const known = controllerPools ? poolNamesOf(controllerPools) : undefined;
    // Cheap checks before DPS: a wrong hub key or pool must not leave a registration behind.
    const gatewayPools = await progress.step(`IoT Hub ${hubHostName}: credential and gateway pools`, () =>
      gatewayPoolsInHub(hub.registry),
    );
    checkDeclaredPool(command.declaration, known, gatewayPools);
    const result = await provisionDevice({
      registrationId: command.registrationId,
      declaration: command.declaration,
      groupId: settings.group,
      provisioningService: createProvisioningServiceClient(settings.dpsConnectionString, ca),
      globalEndpoint: settings.globalEndpoint,
      idScope: settings.idScope,
      registry: hub.registry,
      hubHostName,
      progress,
      outDir: path.resolve(io.cwd, command.outDir ?? path.join('config', 'devices', command.registrationId)),
      ...(command.trustBundleFile !== undefined && {
        trustBundleFile: path.resolve(io.cwd, command.trustBundleFile),
      }),
      ...ca,
    });
    progress.close();
    io.stdout.write(
      command.json ? `${JSON.stringify(deviceJson(command, result))}\n` : deviceText(command, result, io.cwd),
    );
  } finally {
    progress.close();
    hub.close();
  }
}

async function runDeployments(command: DeploymentsCommand, io: ProvisionCliIo): Promise<void> {
  const settings = requireSettings(resolveConnection(command.connection, io.env), ['iothubConnectionString']);
  const platform = command.platform ?? 'amd64';
  const platforms = commonPlatforms(Object.values(loadModules(findRepoRoot())));
  if (!platforms.includes(platform))
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `--platform ${platform}: not one of ${platforms.join(', ')}`,
      false,
    );
  const hub = createIotHubServiceClients(settings.iothubConnectionString, {
    ...(io.ca !== undefined && { ca: io.ca }),
    ...budgetOf(settings),
  });
  try {
    const results = await provisionDeployments({
      registry: hub.registry,
      fleet: {
        repoRoot: findRepoRoot(),
        platform,
        variables: loadVariables(path.resolve(io.cwd, command.dotenv ?? '.env'), io.env),
      },
      ...(command.prefix !== undefined && { prefix: command.prefix }),
      dryRun: command.dryRun,
    });
    io.stdout.write(
      command.json
        ? `${JSON.stringify({ platform, dryRun: command.dryRun, deployments: results })}\n`
        : deploymentsText(results, platform, command.dryRun),
    );
  } finally {
    hub.close();
  }
}

async function runRemove(command: RemoveCommand, io: ProvisionCliIo): Promise<void> {
  const settings = requireSettings(resolveConnection(command.connection, io.env), ['iothubConnectionString']);
  const hub = createIotHubServiceClients(settings.iothubConnectionString, {
    ...(io.ca !== undefined && { ca: io.ca }),
    ...budgetOf(settings),
  });
  try {
    const outcome = await writeRelayTag(hub.registry, command.deviceId, null);
    const removed = outcome === 'written';
    io.stdout.write(
      command.json
        ? `${JSON.stringify({ command: 'remove', deviceId: command.deviceId, removed })}\n`
        : removed
          ? `provision remove ${command.deviceId}: tags.relay removed; the fleet controller tears down what it made for it. ` +
            'The device keeps its identity and registration: disable or delete them to stop it coming back.\n'
          : `provision remove ${command.deviceId}: no tags.relay; nothing to do\n`,
    );
  } finally {
    hub.close();
  }
}

function hostNameOf(connectionString: string): string {
  const host = ConnectionString.parse(connectionString).HostName;
  if (!host)
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      'the IoT Hub connection string has no HostName',
      false,
    );
  return host;
}

function deviceJson(command: DeviceCommand, result: ProvisionDeviceResult): object {
  return { command: command.declaration.role, ...result, tag: relayTagValue(command.declaration) };
}

function deviceText(command: DeviceCommand, r: ProvisionDeviceResult, cwd: string): string {
  const d = command.declaration;
  const what =
    d.role === 'location'
      ? `location ${d.location}${d.pool ? ` (pool ${d.pool})` : ''}: ${d.services.map((s) => `${s.name} → ${s.target}`).join(', ')}`
      : `gateway${d.pool ? ` of pool ${d.pool}` : ''}`;
  return [
    `provision ${d.role} ${r.registrationId}: ${what}`,
    `  enrollment group ${r.groupId}: ${r.enrollment}`,
    `  DPS: registered ${r.registrationId} → device ${r.deviceId} on ${r.assignedHub} (${r.registration})`,
    `  tags.relay: ${r.tags}`,
    `  wrote ${path.relative(cwd, r.configTomlPath) || r.configTomlPath} (mode 0600; holds the device key — install it as /etc/aziot/config.toml)`,
    '',
  ].join('\n');
}

function deploymentsText(results: readonly DeploymentResult[], platform: string, dryRun: boolean): string {
  const lines = [`provision deployments (${platform})${dryRun ? ' — dry run, nothing written' : ''}:`];
  for (const r of results) {
    const extra = [
      r.changed.length > 0 ? `changed ${r.changed.join(', ')}` : '',
      r.removed.length > 0 ? `removed older ${r.removed.join(', ')}` : '',
    ].filter(Boolean);
    lines.push(
      `  ${r.role.padEnd(9)} ${r.id.padEnd(28)} ${r.outcome}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// One process run is short, so a fresh budget per command is enough to keep a scripted batch of runs polite.
function budgetOf(settings: ResolvedConnection): { budget?: HubBudget } {
  return settings.hubBudget ? { budget: new HubBudget(settings.hubBudget) } : {};
}
