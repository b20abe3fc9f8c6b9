import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStateDocument, STATE_FILE, StateFile } from '../../../../sandbox/src/iothub/persistence';

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iothub-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const doc = (n: number): HubStateDocument => ({
    schema: 1,
    hubName: `hub-${n}`,
    policies: [],
    devices: [],
    configurations: [],
    sessions: {},
  });

  it('coalesces changes, writes the latest snapshot and leaves no temp file behind', async () => {
    let n = 0;
    const file = new StateFile(dir, () => doc(++n), quiet);
    for (let i = 0; i < 10; i += 1) file.markDirty();
    await file.flush();
    const saved = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as HubStateDocument;
    expect(saved.hubName).toBe(`hub-${n}`);
    expect(n).toBeLessThanOrEqual(2);
    expect(await readdir(dir)).toEqual([STATE_FILE]);
    expect(await new StateFile(dir, () => doc(0), quiet).load()).toEqual(saved);
  });

  it('starts empty when there is no file, and moves a corrupt one aside', async () => {
    expect(await new StateFile(dir, () => doc(0), quiet).load()).toBeUndefined();
    await writeFile(join(dir, STATE_FILE), '{"schema": 1, "devic');
    expect(await new StateFile(dir, () => doc(0), quiet).load()).toBeUndefined();
    const names = await readdir(dir);
    expect(names.some((f) => f.startsWith(`${STATE_FILE}.corrupt-`))).toBe(true);
    expect(names).not.toContain(STATE_FILE);
  });
});
