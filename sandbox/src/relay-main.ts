/**
 * Runs the sandbox Azure Relay as a process: prints the namespace, the CA file to trust and a Manage
 * connection string, then serves until Ctrl-C (SIGINT) or SIGTERM, which stop it cleanly.
 *
 *   npx ts-node --transpile-only sandbox/src/relay-main.ts [--port N] [--hc NAME]... [--latency none|azure]
 *       [--accept-timeout-ms N] [--tls-fronts N] [--state-dir DIR] [--json]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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

/** Parses argv (after the script name) and the environment (SANDBOX_RELAY_PORT, SANDBOX_STATE_DIR, SANDBOX_RELAY_HCS, SANDBOX_RELAY_TLS_FRONTS). */
export function parseRelayMainArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): RelayMainArgs {
  let port = Number(env.SANDBOX_RELAY_PORT ?? 0);
  let stateDir = env.SANDBOX_STATE_DIR ?? '.sandbox-state';
  const hcs = (env.SANDBOX_RELAY_HCS ?? '').split(',').filter((s) => s.trim() !== '');
  let latencyProfile: 'none' | 'azure' = 'none';
  let acceptTimeoutMs: number | undefined;
  let json = false;
  let tlsFronts = Number(env.SANDBOX_RELAY_TLS_FRONTS ?? DEFAULT_TLS_FRONTS);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') port = Number(value());
    else if (flag === '--state-dir') stateDir = value();
    else if (flag === '--hc') hcs.push(value());
    else if (flag === '--latency') {
      const v = value();
      if (v !== 'none' && v !== 'azure') throw new Error('--latency must be none or azure');
      latencyProfile = v;
    } else if (flag === '--accept-timeout-ms') acceptTimeoutMs = Number(value());
    else if (flag === '--tls-fronts') tlsFronts = Number(value());
    else if (flag === '--json') json = true;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0-65535');
  if (!Number.isInteger(tlsFronts) || tlsFronts < 0 || tlsFronts > 16)
    throw new Error('--tls-fronts must be 0-16');
  if (acceptTimeoutMs !== undefined && !(acceptTimeoutMs > 0))
    throw new Error('--accept-timeout-ms must be positive');
  return {
    port,
    stateDir: resolve(stateDir),
    hybridConnections: hcs.map((s) => s.trim()),
    latencyProfile,
    tlsFronts,
    ...(acceptTimeoutMs !== undefined && { acceptTimeoutMs }),
    json,
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
  runSandboxProcess('sandbox relay', async () => {
    const args = parseRelayMainArgs(process.argv.slice(2));
    const { relay, info } = await startRelayProcess(args);
    return { stop: () => relay.stop(), output: args.json ? JSON.stringify(info) : formatBanner(info) };
  });
}
