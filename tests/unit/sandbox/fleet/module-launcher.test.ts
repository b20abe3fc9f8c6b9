import { readFileSync } from 'node:fs';
import type { ModuleSpec } from '../../../../sandbox/src/edge-agent';
import { ModuleLauncher } from '../../../../sandbox/src/fleet/module-launcher';

/** The process group of `pid`, from /proc (field 5 of stat, after the parenthesised command). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('ModuleLauncher', () => {
  it('starts each module in a process group of its own and forgets it once it exited', async () => {
    const launcher = new ModuleLauncher();
    try {
      const spec = {
        name: 'relay-forwarder',
        image: 'x/relay-forwarder:1',
        runs: 'relay-forwarder',
      } as ModuleSpec;
      // No IoT Edge variables: the module exits (78) on its own after start-up; its group is what matters here.
      const child = launcher.launch(spec, { PATH: process.env.PATH ?? '' });
      const pid = child.pid!;
      expect(processGroup(pid)).toBe(pid);
      expect(processGroup(pid)).not.toBe(processGroup(process.pid));
      expect(launcher.pids()).toEqual([pid]);
      await child.exited;
      await new Promise((resolve) => setImmediate(resolve));
      expect(launcher.pids()).toEqual([]);
    } finally {
      launcher.close();
    }
  });

  it('refuses an image the sandbox cannot run', () => {
    const launcher = new ModuleLauncher();
    try {
      const spec = { name: 'sql', image: 'mcr.microsoft.com/mssql:2022', runs: undefined } as ModuleSpec;
      expect(() => launcher.launch(spec, {})).toThrow(
        'image mcr.microsoft.com/mssql:2022 cannot run in the sandbox',
      );
    } finally {
      launcher.close();
    }
  });
});
