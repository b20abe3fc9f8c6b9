/**
 * Runs the sandbox IoT Hub as a process: prints the host name, the CA file to trust and the iothubowner
 * connection string, then serves MQTT and HTTPS on one TLS port until Ctrl-C (SIGINT) or SIGTERM.
 *
 *   npx ts-node --transpile-only sandbox/src/iothub-main.ts [--port N] [--state-dir DIR] [--hub-name NAME] [--json]
 *       [--throttle-tier S1 [--throttle-units 1]]   (answer 429 + Retry-After past that tier's published throttles)
 */
import { join, resolve } from 'node:path';
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

/** Parses argv (after the script name) and the environment (SANDBOX_IOTHUB_PORT, SANDBOX_STATE_DIR). */
export function parseIotHubMainArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): IotHubMainArgs {
  let port = Number(env.SANDBOX_IOTHUB_PORT ?? 0);
  let stateDir = env.SANDBOX_STATE_DIR ?? '.sandbox-state';
  let hubName = 'sandbox-hub';
  let json = false;
  let throttleTier = env.SANDBOX_IOTHUB_THROTTLE_TIER || undefined;
  let throttleUnits = env.SANDBOX_IOTHUB_THROTTLE_UNITS || undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') port = Number(value());
    else if (flag === '--state-dir') stateDir = value();
    else if (flag === '--hub-name') hubName = value();
    else if (flag === '--json') json = true;
    else if (flag === '--throttle-tier') throttleTier = value();
    else if (flag === '--throttle-units') throttleUnits = value();
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0-65535');
  if (!/^[a-z0-9-]{3,50}$/i.test(hubName))
    throw new Error('--hub-name must be 3-50 letters, digits or dashes');
  const problems: string[] = [];
  const throttle = parseHubBudgetFlags(throttleTier, throttleUnits, problems);
  if (problems.length > 0) throw new Error(problems.join('; ').replace(/--iothub-/g, '--throttle-'));
  return { port, stateDir: resolve(stateDir), hubName, json, ...(throttle && { throttle }) };
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
  runSandboxProcess('sandbox IoT Hub', async () => {
    const args = parseIotHubMainArgs(process.argv.slice(2));
    const { hub, info } = await startIotHubProcess(args);
    return { stop: () => hub.stop(), output: args.json ? JSON.stringify(info) : formatIotHubBanner(info) };
  });
}
