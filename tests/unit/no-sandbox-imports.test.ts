import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// Production code never knows it talks to the sandbox (DESIGN.md §4): nothing under the modules, the controller or
// the provisioning CLI imports from sandbox/ — only endpoints, the CA and the credential's environment differ.
const ROOT = resolve(__dirname, '../..');
const PRODUCTION = ['cloud/src', 'provisioning/src', ...moduleSources()];

function moduleSources(): string[] {
  return readdirSync(join(ROOT, 'modules'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `modules/${d.name}/src`);
}

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('production code', () => {
  it('imports nothing from sandbox/ (statically or on demand)', () => {
    const files = PRODUCTION.flatMap((d) => tsFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((f) =>
      /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"][^'"]*\/sandbox\//.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
