/**
 * Each module image installs its dependencies from modules/<name>/package.json (see its Dockerfile),
 * with the root package-lock.json pinning transitive versions. These tests keep that small manifest
 * honest: same versions as the root lockfile, and every package the module's code imports listed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const MODULE_NAMES = ['relay-forwarder', 'relay-gateway', 'fleet-controller'];
/** Code a module's image compiles besides its own folder and modules/common. */
const EXTRA_SOURCES: Record<string, string[]> = { 'fleet-controller': ['cloud/src', 'sandbox/src/arm'] };
/** Packages a module loads as files rather than by import (the status view serves uPlot from node_modules). */
const AGREED_EXTRA: Record<string, string[]> = { 'fleet-controller': ['uplot'] };
const RUNTIME_DEPENDENCIES = [
  '@azure/monitor-opentelemetry',
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  'ajv',
  'ajv-formats',
  'azure-iot-device',
  'azure-iot-device-mqtt',
  'bufferutil',
  'pino',
  'ws',
];

const readJson = (rel: string) => JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8'));
const rootLock = readJson('package-lock.json') as { packages: Record<string, { version?: string }> };
const rootPackage = readJson('package.json') as { dependencies: Record<string, string> };

/** Package names a TypeScript file loads at runtime (type-only imports are erased by tsc). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...[...text.matchAll(/^\s*import\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*export\s+(?!type\s)[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]),
    ...[...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
    // `typeof import('x')` is a type position, erased by tsc.
    ...[...text.matchAll(/(?<!typeof\s+)\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
  ] as string[];
  return specifiers
    .filter(
      (s) =>
        !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s.split('/')[0] as string),
    )
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe.each(MODULE_NAMES)('modules/%s/package.json', (name) => {
  const pkg = readJson(`modules/${name}/package.json`) as {
    private?: boolean;
    version: string;
    dependencies: Record<string, string>;
  };

  const files = [
    ...sourceFiles(`modules/${name}/src`),
    ...sourceFiles('modules/common/src'),
    ...(EXTRA_SOURCES[name] ?? []).flatMap((dir) => sourceFiles(dir)),
  ];
  const imported = new Set(files.flatMap(runtimeImports));

  it('is private and carries the agreed runtime dependencies, plus only what the code imports', () => {
    expect(pkg.private).toBe(true);
    expect(Object.keys(pkg)).not.toContain('devDependencies');
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(RUNTIME_DEPENDENCIES));
    const extra = Object.keys(pkg.dependencies).filter(
      (dep) =>
        !RUNTIME_DEPENDENCIES.includes(dep) && !AGREED_EXTRA[name]?.includes(dep) && !imported.has(dep),
    );
    expect(extra).toEqual([]);
  });

  it('pins every dependency to the version the root package-lock.json resolved, and the root declares it', () => {
    for (const [dep, version] of Object.entries(pkg.dependencies)) {
      const locked = rootLock.packages[`node_modules/${dep}`]?.version;
      expect({ dep, version }).toEqual({ dep, version: locked });
      expect({ dep, declared: dep in rootPackage.dependencies }).toEqual({ dep, declared: true });
    }
  });

  it('has the version of its module.json', () => {
    expect(pkg.version).toBe(readJson(`modules/${name}/module.json`).image.tag.version);
  });

  it('lists every package its code and the shared code import at runtime', () => {
    const missing = files.flatMap((file) =>
      runtimeImports(file)
        .filter((dep) => !(dep in pkg.dependencies))
        .map((dep) => `${path.relative(ROOT, file)} imports ${dep}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('runtimeImports', () => {
  it('finds runtime imports and skips relative, builtin and type-only ones', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imports-'));
    const file = path.join(dir, 'sample.ts');
    writeFileSync(
      file,
      [
        "import { WebSocket } from 'ws';",
        "import type { Logger } from 'pino';",
        "import Ajv2020 from 'ajv/dist/2020';",
        "import { x } from './local';",
        "import http from 'node:http';",
        "import { Agent } from 'https';",
        "export { y } from '@azure/monitor-opentelemetry/sub';",
        "const m = require('bufferutil');",
        "type Common = typeof import('azure-iot-common');",
      ].join('\n'),
    );
    try {
      expect(runtimeImports(file)).toEqual(['ws', 'ajv', '@azure/monitor-opentelemetry', 'bufferutil']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
