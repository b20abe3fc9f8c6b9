import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxRelayAdminClient } from '../sandbox/src/relay/admin-client';
import type { RelayStats } from '../sandbox/src/relay/stats';
import { BenchProcess } from './process/bench-process';
import type { BenchBuild } from './process/build';

/** The relay-main entry the bench runs (compiled). */
export const RELAY_ENTRY = 'sandbox/src/relay-main.ts';

/** Send and Listen credentials for one hybrid connection. */
export interface HybridConnectionCredentials {
  readonly path: string;
  /** Entity connection string with Send only. */
  readonly sendConnectionString: string;
  /** Entity connection string with Listen only. */
  readonly listenConnectionString: string;
  /** Raw key material, for clients (hyco-ws) that sign their own tokens. */
  readonly send: { readonly keyName: string; readonly key: string };
  readonly listen: { readonly keyName: string; readonly key: string };
}

/** The sandbox relay as a separate process, shared by every variant of one run. */
export interface BenchRelay {
  readonly namespace: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly process: BenchProcess;
  /** Creates a hybrid connection with least-privilege Send and Listen rules. */
  createHybridConnection(path: string): Promise<HybridConnectionCredentials>;
  stats(): Promise<RelayStats>;
  /** Resolves once `path` has at least `count` listener control channels; throws after `timeoutMs`. */
  waitForListeners(path: string, count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `sandbox/src/relay-main` (TLS, ephemeral port, PKI in `stateDir`) and connects its admin API. */
export async function startBenchRelay(
  build: BenchBuild,
  stateDir: string,
  log: (line: string) => void,
  extraArgs: readonly string[] = [],
): Promise<BenchRelay> {
  const proc = BenchProcess.start({
    role: 'relay',
    script: build.script(RELAY_ENTRY),
    args: ['--json', '--port', '0', '--state-dir', stateDir, ...extraArgs],
    env: { NODE_PATH: build.nodePath, LOG_LEVEL: 'warn' },
    log,
  });
  try {
    const infoLine = await proc.waitForLine((line) => line.startsWith('{"namespace"'), 30_000);
    const info = JSON.parse(infoLine) as {
      namespace: string;
      caFile: string;
      manageConnectionString: string;
    };
    const caPem = await readFile(info.caFile, 'utf8');
    const admin = SandboxRelayAdminClient.fromConnectionString(info.manageConnectionString, caPem);
    return {
      namespace: info.namespace,
      caPem,
      caFile: info.caFile,
      process: proc,
      async createHybridConnection(path) {
        await admin.createHybridConnection(path);
        const send = await admin.createAuthorizationRule(path, 'bench-send', ['Send']);
        const listen = await admin.createAuthorizationRule(path, 'bench-listen', ['Listen']);
        return {
          path,
          sendConnectionString: send.primaryConnectionString,
          listenConnectionString: listen.primaryConnectionString,
          send: { keyName: send.keyName, key: send.primaryKey },
          listen: { keyName: listen.keyName, key: listen.primaryKey },
        };
      },
      stats: () => admin.stats(),
      async waitForListeners(path, count, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const stats = await admin.stats();
          if ((stats.listenersByPath[path] ?? 0) >= count) return;
          if (Date.now() > deadline)
            throw new Error(`only ${stats.listenersByPath[path] ?? 0}/${count} listeners on ${path}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      stop: async () => {
        await proc.stop('SIGTERM');
      },
    };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}

/** Where the relay keeps its PKI inside a run's temporary directory. */
export function relayStateDir(runDir: string): string {
  return join(runDir, 'relay-state');
}
