import { BenchProcess } from '../process/bench-process';
import { CHILD_CONFIG_ENV, type ChildConfig, type ChildReadyMessage, type VariantContext } from './types';

/** Node flags that write a V8 CPU profile named `name` into `dir` when the process exits. */
export function cpuProfFlags(dir: string, name: string): string[] {
  return ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`];
}

/** Starts one bench child (baseline or hyco-ws side) and resolves with it and its ready message. */
export async function spawnBenchChild(
  context: VariantContext,
  variant: string,
  role: string,
  entry: string,
  config: ChildConfig,
  env: NodeJS.ProcessEnv = {},
): Promise<{ proc: BenchProcess; ready: ChildReadyMessage }> {
  const build = context.build!;
  const proc = BenchProcess.start({
    role,
    script: build.script(entry),
    env: { NODE_PATH: build.nodePath, [CHILD_CONFIG_ENV]: JSON.stringify(config), ...env },
    ...(context.cpuProfDir && { nodeFlags: cpuProfFlags(context.cpuProfDir, `${variant}-${role}`) }),
    // Children print only their ready line; anything else (warnings, --trace-gc) goes to the bench log.
    onLine: (line) => {
      if (!line.startsWith('{"event":"ready"')) context.log(`[${variant} ${role}] ${line}`);
    },
    log: context.log,
  });
  try {
    const line = await proc.waitForLine((l) => l.startsWith('{"event":"ready"'), 30_000);
    return { proc, ready: JSON.parse(line) as ChildReadyMessage };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}
