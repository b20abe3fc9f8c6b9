/**
 * Runs the sandbox Azure Relay as a process: prints the namespace, the CA file to trust and a Manage
 * connection string, then serves until Ctrl-C (SIGINT) or SIGTERM, which stop it cleanly.
 *
 *   npx ts-node --transpile-only sandbox/src/relay-main.ts [--port N] [--hc NAME]... [--latency none|azure]
 *       [--accept-timeout-ms N] [--tls-fronts N] [--state-dir DIR] [--json]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
  stringsFlag,
  type OptionSpecs,
} from '../../modules/common/src/cli/command-line';
import { UsageError } from '../../modules/common/src/cli/cli-error';
import { createLogger } from '../../modules/common/src/log';
import { generateKey, ROOT_RULE_NAME } from './relay/namespace-registry';
import { runSandboxProcess } from './process-main';
import { startSandboxRelay, type SandboxRelay } from './relay';
import { loadOrCreateSandboxPki } from './tls/pki-store';

/** TLS front processes a relay process starts unless told otherwise (fronts trade bulk throughput for handshakes). */
export const DEFAULT_TLS_FRONTS = 0;

/** Command-line settings of the relay process. */
export interface RelayMainArgs {
  readonly port: number;
  /** Where the CA, server certificate and root key are kept between runs (stable trust and connection string). */
  readonly stateDir: string;
  readonly hybridConnections: readonly string[];
  readonly latencyProfile: 'none' | 'azure';
  readonly acceptTimeoutMs?: number;
  /** TLS front processes (default 0: TLS in TLS in the relay's own event loop). */
  readonly tlsFronts: number;
  /** Print one JSON line instead of the human-readable summary. */
  readonly json: boolean;
}

/** What a started relay process reports. */
export interface RelayMainInfo {
  readonly namespace: string;
  readonly caFile: string;
  readonly manageConnectionString: string;
  readonly hybridConnections: readonly string[];
}

/** Usage text for --help and bad command lines. */
export const RELAY_MAIN_USAGE = `Usage: npx ts-node --transpile-only sandbox/src/relay-main.ts [--port N] [--hc NAME]...
         [--latency none|azure] [--accept-timeout-ms N] [--tls-fronts N] [--state-dir DIR] [--json]

  Runs the sandbox Azure Relay on loopback and prints its namespace, CA file and a Manage connection string.

  --port N               TLS port (default SANDBOX_RELAY_PORT, else any free port)
  --hc NAME              create this hybrid connection (repeatable; also SANDBOX_RELAY_HCS=a,b)
  --latency none|azure   add Azure-like round trips (default none)
  --accept-timeout-ms N  how long a listener may take to accept (default the relay's)
  --tls-fronts N         terminate TLS in N child processes, 0-16 (default SANDBOX_RELAY_TLS_FRONTS, else 0)
  --state-dir DIR        CA, certificate and root key kept between runs (default SANDBOX_STATE_DIR, else .sandbox-state)
  --json                 print one JSON line instead of the banner
${STANDARD_USAGE_LINES}`;

/** The relay process's options (node:util parseArgs definitions). */
export const RELAY_MAIN_OPTIONS = {
  port: { type: 'string' },
  'state-dir': { type: 'string' },
  hc: { type: 'string', multiple: true },
  latency: { type: 'string' },
  'accept-timeout-ms': { type: 'string' },
  'tls-fronts': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpecs;

/**
 * Parses argv (after the script name) and the environment (SANDBOX_RELAY_PORT, SANDBOX_STATE_DIR,
 * SANDBOX_RELAY_HCS, SANDBOX_RELAY_TLS_FRONTS); throws UsageError naming what is wrong.
 */
export function parseRelayMainArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): RelayMainArgs {
  const line = parseCommandLine(argv, RELAY_MAIN_OPTIONS);
  if (line.kind === 'error') throw new UsageError(line.error);
  const values = line.kind === 'run' ? line.values : {};
  const port = Number(stringFlag(values, 'port') ?? env.SANDBOX_RELAY_PORT ?? 0);
  const stateDir = stringFlag(values, 'state-dir') ?? env.SANDBOX_STATE_DIR ?? '.sandbox-state';
  const hcs = [
    ...(env.SANDBOX_RELAY_HCS ?? '').split(',').filter((s) => s.trim() !== ''),
    ...stringsFlag(values, 'hc'),
  ];
  const latency = stringFlag(values, 'latency') ?? 'none';
  if (latency !== 'none' && latency !== 'azure') throw new UsageError('--latency must be none or azure');
  const timeout = stringFlag(values, 'accept-timeout-ms');
  const acceptTimeoutMs = timeout === undefined ? undefined : Number(timeout);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  const tlsFronts = Number(
    stringFlag(values, 'tls-fronts') ?? env.SANDBOX_RELAY_TLS_FRONTS ?? DEFAULT_TLS_FRONTS,
  );
  if (!Number.isInteger(tlsFronts) || tlsFronts < 0 || tlsFronts > 16)
    throw new UsageError('--tls-fronts must be 0-16');
  if (acceptTimeoutMs !== undefined && !(acceptTimeoutMs > 0))
    throw new UsageError('--accept-timeout-ms must be positive');
  return {
    port,
    stateDir: resolve(stateDir),
    hybridConnections: hcs.map((s) => s.trim()),
    latencyProfile: latency,
    tlsFronts,
    ...(acceptTimeoutMs !== undefined && { acceptTimeoutMs }),
    json: values.json === true,
  };
}

/** Starts the relay with persisted PKI and root key; returns it and what to print. */
export async function startRelayProcess(
  args: RelayMainArgs,
): Promise<{ relay: SandboxRelay; info: RelayMainInfo }> {
  const pki = await loadOrCreateSandboxPki(join(args.stateDir, 'pki'));
  const relay = await startSandboxRelay({
    port: args.port,
    pki,
    latencyProfile: args.latencyProfile,
    rootKey: await loadOrCreateRootKey(join(args.stateDir, 'relay')),
    hybridConnections: args.hybridConnections,
    tlsFronts: args.tlsFronts,
    // With --json, stdout carries the info line first; keep routine logs off it unless asked for.
    logger: createLogger('sandbox-relay', process.env.LOG_LEVEL ?? (args.json ? 'warn' : 'info')),
    ...(args.acceptTimeoutMs !== undefined && { acceptTimeoutMs: args.acceptTimeoutMs }),
  });
  return {
    relay,
    info: {
      namespace: relay.namespace,
      caFile: pki.caFile,
      manageConnectionString: relay.rootKeys.primaryConnectionString,
      hybridConnections: relay.listHybridConnections().map((hc) => hc.name),
    },
  };
}

/** The human-readable start banner. The key is a throwaway sandbox key, printed on purpose. */
export function formatBanner(info: RelayMainInfo): string {
  return [
    'Sandbox Azure Relay is running (Ctrl-C to stop)',
    `  namespace           ${info.namespace}`,
    `  CA file             ${info.caFile}`,
    `                      export NODE_EXTRA_CA_CERTS=${info.caFile}`,
    `  manage connection   ${info.manageConnectionString}`,
    `  hybrid connections  ${info.hybridConnections.join(', ') || '(none yet; create them with the admin API)'}`,
    `  admin API           https://${info.namespace}/$sandbox/  (ServiceBusAuthorization: a Manage token)`,
  ].join('\n');
}

async function loadOrCreateRootKey(dir: string): Promise<string> {
  const file = join(dir, `${ROOT_RULE_NAME}.key`);
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 16) return key;
  } catch {
    // First run: create below.
  }
  const key = generateKey();
  await mkdir(dir, { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

if (require.main === module) {
  const command = { name: 'sandbox relay', usage: RELAY_MAIN_USAGE, options: RELAY_MAIN_OPTIONS };
  runSandboxProcess(command, async (argv) => {
    const args = parseRelayMainArgs(argv);
    const { relay, info } = await startRelayProcess(args);
    return { stop: () => relay.stop(), output: args.json ? JSON.stringify(info) : formatBanner(info) };
  });
}
