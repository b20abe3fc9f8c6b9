// The supervisor with real (tiny) node processes: each module's env SCRIPT is the program it runs.
import { parseAgentDesired, type ModuleSpec } from '../../../../sandbox/src/edge-agent/deployment-spec';
import { ModuleChild, type RunningModule } from '../../../../sandbox/src/edge-agent/module-child';
import { ModuleSupervisor, type ModuleState } from '../../../../sandbox/src/edge-agent/module-supervisor';

const RUN_FOREVER = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)";
const IGNORE_SIGTERM = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)";

function spec(
  script: string,
  entry: Record<string, unknown> = {},
  image = 'r/relay-forwarder:1',
): ModuleSpec {
  const parsed = parseAgentDesired({
    schemaVersion: '1.1',
    modules: { m: { settings: { image }, env: { SCRIPT: { value: script } }, ...entry } },
  });
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.modules.get('m') as ModuleSpec;
}

class World {
  readonly supervisors: ModuleSupervisor[] = [];
  readonly children: ModuleChild[] = [];
  launches = 0;
  failLaunches = 0;
  private readonly waiters = new Set<() => void>();

  supervisor(s: ModuleSpec, stopTimeoutMs = 2_000): ModuleSupervisor {
    const supervisor = new ModuleSupervisor(s, {
      launch: async (current): Promise<RunningModule> => {
        this.launches += 1;
        if (this.failLaunches > 0) {
          this.failLaunches -= 1;
          throw new Error('identity service unavailable');
        }
        const child = ModuleChild.spawn({
          command: process.execPath,
          args: ['-e', current.env.SCRIPT ?? ''],
          env: {},
        });
        this.children.push(child);
        return child;
      },
      backoff: { initialDelayMs: 20, maxDelayMs: 80, stableAfterMs: 60_000 },
      stopTimeoutMs,
      onChange: () => this.waiters.forEach((w) => w()),
    });
    this.supervisors.push(supervisor);
    return supervisor;
  }

  waitFor(
    supervisor: ModuleSupervisor,
    what: string,
    predicate: (s: ModuleState) => boolean,
  ): Promise<ModuleState> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const state = supervisor.state();
        if (!predicate(state)) return;
        done();
        resolve(state);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(supervisor.state())}`));
      }, 10_000);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.supervisors.map((s) => s.stop()));
    await Promise.all(this.children.map((c) => c.stop(1_000)));
  }
}

function alive(pid: number | undefined): boolean {
  try {
    process.kill(pid as number, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ModuleSupervisor', () => {
  let world: World;
  beforeEach(() => {
    world = new World();
  });
  afterEach(() => world.close());

  it('restart policy always: a module that exits cleanly is started again', async () => {
    const s = world.supervisor(spec('setTimeout(() => process.exit(0), 50)', { restartPolicy: 'always' }));
    s.start();
    const state = await world.waitFor(s, 'two restarts', (st) => st.restartCount >= 2);
    expect(state.lastRestartTimeUtc).toBeDefined();
    expect(world.launches).toBeGreaterThanOrEqual(3);
  });

  it('on-failure: a crash is restarted after a backoff, a clean exit is not', async () => {
    const crashing = world.supervisor(spec('process.exit(3)', { restartPolicy: 'on-failure' }));
    crashing.start();
    const backoff = await world.waitFor(crashing, 'backoff', (st) => st.runtimeStatus === 'backoff');
    expect(backoff.exitCode).toBe(3);
    expect(backoff.statusDescription).toMatch(/exited with code 3; restarting in \d+ ms/);
    await world.waitFor(crashing, 'a restart', (st) => st.restartCount >= 1);

    const clean = world.supervisor(spec('process.exit(0)', { restartPolicy: 'on-failure' }));
    clean.start();
    const stopped = await world.waitFor(clean, 'stopped', (st) => st.runtimeStatus === 'stopped');
    expect(stopped).toMatchObject({ exitCode: 0, restartCount: 0 });
  });

  it('never: a crash leaves the module failed', async () => {
    const s = world.supervisor(spec('process.exit(7)', { restartPolicy: 'never' }));
    s.start();
    const failed = await world.waitFor(s, 'failed', (st) => st.runtimeStatus === 'failed');
    expect(failed).toMatchObject({ exitCode: 7, restartCount: 0 });
    expect(failed.statusDescription).toBe('exited with code 7; restartPolicy never');
  });

  it('a changed definition replaces the process; a policy change alone does not', async () => {
    const s = world.supervisor(spec(RUN_FOREVER));
    s.start();
    const first = await world.waitFor(s, 'running', (st) => st.runtimeStatus === 'running');
    await s.update(spec(RUN_FOREVER, { restartPolicy: 'never' }));
    expect(s.state().pid).toBe(first.pid);
    await s.update(spec(`${RUN_FOREVER} // v2`));
    const second = await world.waitFor(s, 'running again', (st) => st.runtimeStatus === 'running');
    expect(second.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);
  });

  it('desired status stopped stops it; running starts it again', async () => {
    const s = world.supervisor(spec(RUN_FOREVER));
    s.start();
    const running = await world.waitFor(s, 'running', (st) => st.runtimeStatus === 'running');
    await s.update(spec(RUN_FOREVER, { status: 'stopped' }));
    expect(s.state()).toMatchObject({
      runtimeStatus: 'stopped',
      statusDescription: 'desired status is stopped',
    });
    expect(alive(running.pid)).toBe(false);
    await s.update(spec(RUN_FOREVER));
    await world.waitFor(s, 'running again', (st) => st.runtimeStatus === 'running');
  });

  it('a module that ignores SIGTERM is killed after the stop timeout', async () => {
    const s = world.supervisor(spec(IGNORE_SIGTERM), 200);
    s.start();
    const running = await world.waitFor(s, 'running', (st) => st.runtimeStatus === 'running');
    await s.stop();
    expect(alive(running.pid)).toBe(false);
    expect(s.state()).toMatchObject({ runtimeStatus: 'stopped', exitCode: 128 });
  });

  it('retries a launch the agent could not do, whatever the restart policy', async () => {
    world.failLaunches = 2;
    const s = world.supervisor(spec(RUN_FOREVER, { restartPolicy: 'never' }));
    s.start();
    await world.waitFor(s, 'running after two failed launches', (st) => st.runtimeStatus === 'running');
    expect(world.launches).toBe(3);
    expect(s.state().restartCount).toBe(2);
  });

  it('reports an image it cannot run as failed without launching', () => {
    const s = world.supervisor(
      spec(RUN_FOREVER, {}, 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.5'),
    );
    s.start();
    expect(s.state()).toMatchObject({ runtimeStatus: 'failed' });
    expect(s.state().statusDescription).toContain('the sandbox runs only those');
    expect(world.launches).toBe(0);
  });

  it('reports a module asked to stay stopped as stopped, whatever its image (the sandbox fleet-controller)', () => {
    const s = world.supervisor(spec(RUN_FOREVER, { status: 'stopped' }, 'r/fleet-controller:0.1.0-amd64'));
    s.start();
    expect(s.state()).toMatchObject({
      runtimeStatus: 'stopped',
      statusDescription: 'desired status is stopped',
    });
    expect(world.launches).toBe(0);
  });

  it('stop during a launch leaves no process behind', async () => {
    const s = world.supervisor(spec(RUN_FOREVER));
    s.start();
    await s.stop();
    expect(world.children.every((c) => !alive(c.pid))).toBe(true);
    expect(s.state().runtimeStatus).toBe('stopped');
  });
});
