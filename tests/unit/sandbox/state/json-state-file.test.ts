import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStateFile, type StateFileLogger } from '../../../../sandbox/src/state/json-state-file';

const quiet: StateFileLogger = {
  warn: () => undefined,
  error: () => undefined,
};
const isDoc = (d: unknown): d is { n: number } => typeof (d as { n?: unknown })?.n === 'number';

describe('JsonStateFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dps-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the latest snapshot atomically (0600, no temp file left) and reads it back', async () => {
    let n = 0;
    const path = join(dir, 'sub', 'state.json');
    const file = new JsonStateFile(path, () => ({ n }), isDoc, quiet);
    for (n = 1; n <= 5; n++) file.markDirty();
    n = 5;
    await file.flush();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ n: 5 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['state.json']);
    expect(await new JsonStateFile(path, () => ({ n: 0 }), isDoc, quiet).load()).toEqual({ n: 5 });
  });

  it('returns undefined when there is no file, and moves an unreadable one aside', async () => {
    const path = join(dir, 'state.json');
    const file = new JsonStateFile(path, () => ({ n: 0 }), isDoc, quiet);
    expect(await file.load()).toBeUndefined();
    await writeFile(path, '{"other":true}');
    expect(await file.load()).toBeUndefined();
    expect((await readdir(dir)).filter((f) => f.startsWith('state.json.corrupt-'))).toHaveLength(1);
  });
});
