// A module (relay-forwarder or relay-gateway) as a child process started from its entry file with a configuration
// file, for tests that must look at what only a process shows: its stderr and its resident memory.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModuleProcess, type ModuleName } from '../../sandbox/src/demo/module-process';

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** A module process and the temporary directory holding its configuration and the relay CA. */
export interface ModuleChildWorld {
  readonly process: ModuleProcess;
  readonly pid: number;
  close(): Promise<void>;
}

/** Writes `document` and `caPem` to a temporary directory and starts `module` on them (logging at `logLevel`). */
export async function startModuleChild(
  module: ModuleName,
  document: object,
  caPem: string,
  logLevel = 'info',
): Promise<ModuleChildWorld> {
  const dir = await mkdtemp(join(tmpdir(), `hrf-${module}-`));
  const configPath = join(dir, 'config.json');
  const relayCaPath = join(dir, 'relay-ca.pem');
  await writeFile(configPath, JSON.stringify({ ...document, logLevel }));
  await writeFile(relayCaPath, caPem);
  const env = { ...process.env, LOG_LEVEL: logLevel, HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1' };
  const child = ModuleProcess.start({ module, configPath, relayCaPath, env });
  return {
    process: child,
    get pid(): number {
      if (child.pid === undefined) throw new Error(`${module} did not start`);
      return child.pid;
    },
    async close() {
      await child.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
