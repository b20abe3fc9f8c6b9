/**
 * Runs the sandbox IoT Hub as a process: prints the host name, the CA file to trust and the iothubowner
 * connection string, then serves MQTT and HTTPS on one TLS port until Ctrl-C (SIGINT) or SIGTERM.
 *
 *   npx ts-node --transpile-only sandbox/src/iothub-main.ts [--port N] [--state-dir DIR] [--hub-name NAME] [--json]
 *       [--throttle-tier S1 [--throttle-units 1]]   (answer 429 + Retry-After past that tier's published throttles)
 */
import { join, resolve } from 'node:path';
import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
  type OptionSpecs,
} from '../../modules/common/src/cli/command-line';
import { UsageError } from '../../modules/common/src/cli/cli-error';
import { hubLimits, parseHubBudgetFlags, type IotHubTier } from '../../cloud/src/azure/hub-throttles';
import { createLogger } from '../../modules/common/src/log';
import { startSandboxIotHub, type SandboxIotHub } from './iothub';
import { runSandboxProcess } from './process-main';
import { loadOrCreateSandboxPki } from './tls/pki-store';

/** Command-line settings of the IoT Hub process. */
export interface IotHubMainArgs {
  /** 0 reuses the port of the previous run when free (so device connection strings stay valid), else picks one. */
  readonly port: number;
  /** Holds `pki/` (shared with the relay process) and `iothub/` (the hub's state file). */
  readonly stateDir: string;
  readonly hubName: string;
  /** Print one JSON line instead of the human-readable summary. */
  readonly json: boolean;
  /** Throttle the service API like this tier and unit count (`--throttle-tier`, SANDBOX_IOTHUB_THROTTLE_TIER). */
  readonly throttle?: { readonly tier: IotHubTier; readonly units: number };
}

/** What a started hub process reports. */
export interface IotHubMainInfo {
  readonly hubName: string;
  readonly hostName: string;
  readonly caFile: string;
  readonly ownerConnectionString: string;
}

/** Usage text for --help and bad command lines. */
export const IOTHUB_MAIN_USAGE = `Usage: npx ts-node --transpile-only sandbox/src/iothub-main.ts [--port N] [--state-dir DIR]
         [--hub-name NAME] [--throttle-tier TIER [--throttle-units N]] [--json]

  Runs the sandbox IoT Hub (MQTT and HTTPS on one TLS port) and prints its host name, CA file and the
  iothubowner connection string.

  --port N          TLS port (default SANDBOX_IOTHUB_PORT, else the previous run's port when free)
  --state-dir DIR   CA and hub state kept between runs (default SANDBOX_STATE_DIR, else .sandbox-state)
  --hub-name NAME   3-50 letters, digits or dashes (default sandbox-hub)
  --throttle-tier T answer 429 + Retry-After past tier T's published throttles (F1|B1|B2|B3|S1|S2|S3;
                    default SANDBOX_IOTHUB_THROTTLE_TIER, else no throttling)
  --throttle-units N the hub's unit count for --throttle-tier (default SANDBOX_IOTHUB_THROTTLE_UNITS, else 1)
  --json            print one JSON line instead of the banner
${STANDARD_USAGE_LINES}`;

/** The hub process's options (node:util parseArgs definitions). */
export const IOTHUB_MAIN_OPTIONS = {
  port: { type: 'string' },
  'state-dir': { type: 'string' },
  'hub-name': { type: 'string' },
  'throttle-tier': { type: 'string' },
  'throttle-units': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** Parses argv (after the script name) and the environment (SANDBOX_IOTHUB_PORT, SANDBOX_STATE_DIR); throws UsageError. */
export function parseIotHubMainArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): IotHubMainArgs {
  const line = parseCommandLine(argv, IOTHUB_MAIN_OPTIONS);
  if (line.kind === 'error') throw new UsageError(line.error);
  const values = line.kind === 'run' ? line.values : {};
  const port = Number(stringFlag(values, 'port') ?? env.SANDBOX_IOTHUB_PORT ?? 0);
  const stateDir = stringFlag(values, 'state-dir') ?? env.SANDBOX_STATE_DIR ?? '.sandbox-state';
  const hubName = stringFlag(values, 'hub-name') ?? 'sandbox-hub';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  if (!/^[a-z0-9-]{3,50}$/i.test(hubName))
    throw new UsageError('--hub-name must be 3-50 letters, digits or dashes');
  const problems: string[] = [];
  const throttle = parseHubBudgetFlags(
    stringFlag(values, 'throttle-tier') ?? (env.SANDBOX_IOTHUB_THROTTLE_TIER || undefined),
    stringFlag(values, 'throttle-units') ?? (env.SANDBOX_IOTHUB_THROTTLE_UNITS || undefined),
    problems,
  );
  if (problems.length > 0) throw new UsageError(problems.join('; ').replace(/--iothub-/g, '--throttle-'));
  return {
    port,
    stateDir: resolve(stateDir),
    hubName,
    json: values.json === true,
    ...(throttle && { throttle }),
  };
}

/** Starts the hub with the shared sandbox PKI and its state file; returns it and what to print. */
export async function startIotHubProcess(
  args: IotHubMainArgs,
): Promise<{ hub: SandboxIotHub; info: IotHubMainInfo }> {
  const pki = await loadOrCreateSandboxPki(join(args.stateDir, 'pki'));
  const hub = await startSandboxIotHub({
    stateDir: join(args.stateDir, 'iothub'),
    pki,
    caFile: pki.caFile,
    hubName: args.hubName,
    ...(args.port ? { port: args.port } : {}),
    ...(args.throttle && {
      throttle: hubLimits(args.throttle.tier, args.throttle.units),
    }),
    // With --json, stdout carries the info line first; keep routine logs off it unless asked for.
    logger: createLogger('sandbox-iothub', process.env.LOG_LEVEL ?? (args.json ? 'warn' : 'info')),
  });
  return {
    hub,
    info: {
      hubName: hub.hubName,
      hostName: hub.hostName,
      caFile: pki.caFile,
      ownerConnectionString: hub.ownerConnectionString,
    },
  };
}

/** The human-readable start banner. The key is a throwaway sandbox key, printed on purpose. */
export function formatIotHubBanner(info: IotHubMainInfo): string {
  return [
    'Sandbox IoT Hub is running (Ctrl-C to stop)',
    `  host name           ${info.hostName}   (MQTT and HTTPS on this one port)`,
    `  CA file             ${info.caFile}`,
    `                      export NODE_EXTRA_CA_CERTS=${info.caFile}`,
    `  owner connection    ${info.ownerConnectionString}`,
    '  service SDK         createIotHubServiceClients(ownerConnectionString, { ca }) — see docs/sandbox-iothub.md',
  ].join('\n');
}

if (require.main === module) {
  const command = { name: 'sandbox IoT Hub', usage: IOTHUB_MAIN_USAGE, options: IOTHUB_MAIN_OPTIONS };
  runSandboxProcess(command, async (argv) => {
    const args = parseIotHubMainArgs(argv);
    const { hub, info } = await startIotHubProcess(args);
    return { stop: () => hub.stop(), output: args.json ? JSON.stringify(info) : formatIotHubBanner(info) };
  });
}
