import { mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseConfigText,
  readConfigFile,
  watchConfigFile,
  type ConfigFileResult,
  type ConfigFileWatch,
} from '../../../../../modules/common/src/config/file-source';
import { locateJsonSyntaxError } from '../../../../../modules/common/src/config/json-syntax';

describe('parseConfigText', () => {
  it('parses a document and tolerates a UTF-8 BOM', () => {
    const result = parseConfigText('\ufeff{"schemaVersion": 1}');
    expect(result).toEqual({ ok: true, path: '<text>', document: { schemaVersion: 1 } });
  });

  it('reports an empty file as CONFIG_FILE_EMPTY', () => {
    const result = parseConfigText('  \n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CONFIG_FILE_EMPTY');
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, 'trailing comma before "}"'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}" after a property value'],
    ['{"a": tru}', 1, 7, 'expected a value'],
    ['{\n  // note\n  "a": 1\n}', 2, 3, 'comments are not allowed in JSON'],
    ['[1, 2', 1, 6, 'unexpected end of the document inside an array'],
    ['{"a": "x\ny"}', 1, 9, 'control character'],
    ['{"a": 01}', 1, 7, 'invalid number'],
    ['{"a": 1} x', 1, 10, 'unexpected text after the end'],
    ["{'a': 1}", 1, 2, 'expected a double-quoted property name'],
    ['{"a": "\\q"}', 1, 8, 'invalid escape'],
    ['{"a": "unterminated', 1, 7, 'unterminated string'],
  ])('locates the syntax error in %j at line %i column %i', (text, line, column, message) => {
    const result = parseConfigText(text, '/etc/gw.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('CONFIG_FILE_INVALID_JSON');
    expect(result.error.line).toBe(line);
    expect(result.error.column).toBe(column);
    expect(result.error.message).toContain(message);
    expect(result.error.message).toContain(`/etc/gw.json: invalid JSON at line ${line}, column ${column}`);
  });

  it('never quotes the document in the message (it may hold a secret)', () => {
    const result = parseConfigText('{"connectionString": "SharedAccessKey=s3cr3t" x}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain('s3cr3t');
  });

  it('agrees with JSON.parse on valid documents', () => {
    for (const text of ['{}', '[]', '"x"', '-1.5e+3', 'null', '{"a":[1,{"b":"\\u00e9\\n"}],"c":true}']) {
      expect(locateJsonSyntaxError(text)).toBeUndefined();
    }
  });
});

describe('readConfigFile', () => {
  it('reports a missing file as CONFIG_FILE_NOT_FOUND with its absolute path', async () => {
    const result = await readConfigFile(join(tmpdir(), 'no-such-dir-hrf', 'x.json'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('CONFIG_FILE_NOT_FOUND');
      expect(result.error.retryable).toBe(true);
    }
  });
});

describe('watchConfigFile', () => {
  let dir: string;
  let file: string;
  let watcher: ConfigFileWatch | undefined;
  let results: ConfigFileResult[];
  let waiters: Array<() => void>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hrf-file-source-'));
    file = join(dir, 'config.json');
    results = [];
    waiters = [];
  });

  afterEach(async () => {
    watcher?.close();
    watcher = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function start(): void {
    watcher = watchConfigFile(
      file,
      (result) => {
        results.push(result);
        for (const wake of waiters.splice(0)) wake();
      },
      { debounceMs: 20, pollIntervalMs: 0 },
    );
  }

  // Bounded wait for the n-th reading; fails the test instead of hanging.
  async function reading(n: number): Promise<ConfigFileResult> {
    const deadline = Date.now() + 5000;
    while (results.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} readings, got ${results.length}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, 100);
        waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
    return results[n - 1]!;
  }

  function documentOf(result: ConfigFileResult): unknown {
    if (!result.ok) throw result.error;
    return result.document;
  }

  it('reports the first reading, then in-place writes', async () => {
    await writeFile(file, '{"v": 1}');
    start();
    expect(documentOf(await reading(1))).toEqual({ v: 1 });
    await writeFile(file, '{"v": 2, "more": true}');
    expect(documentOf(await reading(2))).toEqual({ v: 2, more: true });
  });

  it('follows a file replaced by rename, as editors do', async () => {
    await writeFile(file, '{"v": 1}');
    start();
    await reading(1);
    for (let v = 2; v <= 3; v++) {
      const temp = join(dir, `.config.json.${v}.tmp`);
      await writeFile(temp, JSON.stringify({ v }));
      await rename(temp, file);
      expect(documentOf(await reading(v))).toEqual({ v });
    }
  });

  it('reports a parse error with its position, then recovers', async () => {
    await writeFile(file, '{"v": 1}');
    start();
    await reading(1);
    await writeFile(file, '{\n  "v": 2,\n}');
    const bad = await reading(2);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect([bad.error.code, bad.error.line, bad.error.column]).toEqual(['CONFIG_FILE_INVALID_JSON', 3, 1]);
    await writeFile(file, '{"v": 3}');
    expect(documentOf(await reading(3))).toEqual({ v: 3 });
  });

  it('reports a file that appears after start and one that disappears', async () => {
    start();
    const missing = await reading(1);
    expect(missing.ok ? 'ok' : missing.error.code).toBe('CONFIG_FILE_NOT_FOUND');
    await writeFile(file, '{"v": 1}');
    expect(documentOf(await reading(2))).toEqual({ v: 1 });
    await unlink(file);
    const gone = await reading(3);
    expect(gone.ok ? 'ok' : gone.error.code).toBe('CONFIG_FILE_NOT_FOUND');
  });

  it('re-reports an unchanged document after touch and on reload()', async () => {
    await writeFile(file, '{"v": 1}');
    start();
    await reading(1);
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    expect(documentOf(await reading(2))).toEqual({ v: 1 });
    watcher!.reload();
    expect(documentOf(await reading(3))).toEqual({ v: 1 });
  });

  it('picks up changes by polling when no watcher event arrives', async () => {
    await writeFile(file, '{"v": 1}');
    watcher = watchConfigFile(file, (r) => results.push(r), { debounceMs: 10_000, pollIntervalMs: 30 });
    await reading(1);
    await writeFile(file, '{"v": 2}');
    expect(documentOf(await reading(2))).toEqual({ v: 2 });
  });
});
