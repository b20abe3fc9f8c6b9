import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModuleExitCode } from '../../../../../modules/common/src/module-cli/exit-codes';
import {
  parseFailureExit,
  readRelayCa,
  startupFailureExit,
} from '../../../../../modules/common/src/module-cli/startup';

function output() {
  const written = { stdout: '', stderr: '' };
  return {
    written,
    out: {
      stdout: { write: (t: string) => (written.stdout += t) },
      stderr: { write: (t: string) => (written.stderr += t) },
    },
  };
}

describe('parseFailureExit', () => {
  it('prints the usage to stdout for --help and exits 0', () => {
    const { written, out } = output();
    expect(parseFailureExit('mod', 'Usage: mod\n', { ok: false, help: true }, out)).toBe(ModuleExitCode.OK);
    expect(written).toEqual({ stdout: 'Usage: mod\n', stderr: '' });
  });

  it('prints the error and the usage to stderr and exits 64', () => {
    const { written, out } = output();
    expect(parseFailureExit('mod', 'Usage: mod\n', { ok: false, help: false, error: 'bad' }, out)).toBe(64);
    expect(written).toEqual({ stdout: '', stderr: 'mod: bad\nUsage: mod\n' });
  });
});

describe('readRelayCa', () => {
  it('reads nothing without --relay-ca, the file with it', () => {
    const { out } = output();
    expect(readRelayCa('mod', undefined, out)).toEqual({ ok: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'module-cli-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.pem'), 'PEM');
      expect(readRelayCa('mod', path.join(dir, 'ca.pem'), out)).toEqual({ ok: true, ca: 'PEM' });
      const { written, out: out2 } = output();
      expect(readRelayCa('mod', path.join(dir, 'none.pem'), out2)).toEqual({ ok: false, exitCode: 66 });
      expect(written.stderr).toBe(`mod: cannot read --relay-ca ${path.join(dir, 'none.pem')}: ENOENT\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startupFailureExit', () => {
  it('lists every problem with its path (/ for the root) and exits 78 for an invalid document', () => {
    const { written, out } = output();
    const problems = [
      { path: '', message: 'must have schemaVersion' },
      { path: '/a/b', message: 'must be integer' },
    ];
    expect(startupFailureExit('mod', { message: 'invalid', code: 'CONFIG_INVALID', problems }, out)).toBe(78);
    expect(written.stderr).toBe('mod: invalid\n  /: must have schemaVersion\n  /a/b: must be integer\n');
  });

  it('exits 66 when the file could not be read', () => {
    const { out } = output();
    expect(startupFailureExit('mod', { message: 'gone', code: 'CONFIG_FILE', problems: [] }, out)).toBe(66);
  });
});
