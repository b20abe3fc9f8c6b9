/**
 * npm run deployment:gen -- [--template FILE]... [--platform KEY]... [--dotenv FILE] [--out-dir DIR]
 *
 * Thin shell around generateManifest: reads templates, module.json files and .env, writes
 * config/deployment[.<name>].<platform>.json, prints what it wrote (never a variable's value).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblems, isDeploymentError } from './errors';
import { FLEET_TEMPLATES, loadModules, loadVariables, readJson } from './fleet';
import { generateManifest } from './generate';
import { commonPlatforms } from './module-metadata';

/** `deployment.template.json` → `deployment.<platform>.json`; `deployment.gateway.template.json` → `deployment.gateway.<platform>.json`. */
export function outputFileName(templateFile: string, platform: string): string {
  const base = path
    .basename(templateFile)
    .replace(/\.template\.json$/, '')
    .replace(/\.json$/, '');
  return `${base}.${platform}.json`;
}

/** Runs the generator; returns the process exit code. */
export function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): number {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      template: { type: 'string', multiple: true },
      platform: { type: 'string', multiple: true },
      // Not --env-file: Node itself claims that flag (ts-node passes it through to node).
      dotenv: { type: 'string' },
      'out-dir': { type: 'string', default: 'config' },
    },
    strict: true,
  });
  try {
    const modules = loadModules(cwd);
    const templates = values.template ?? Object.values(FLEET_TEMPLATES);
    const platforms = values.platform ?? commonPlatforms(Object.values(modules));
    const variables = loadVariables(path.resolve(cwd, values.dotenv ?? '.env'), env);
    const outDir = path.resolve(cwd, values['out-dir'] ?? 'config');
    mkdirSync(outDir, { recursive: true });
    for (const template of templates) {
      const doc = readJson(path.resolve(cwd, template));
      for (const platform of platforms) {
        const manifest = generateManifest(doc, { platform, modules, variables });
        const file = path.join(outDir, outputFileName(template, platform));
        writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
        const agent = manifest.modulesContent['$edgeAgent']?.['properties.desired'] as {
          modules?: Record<string, { settings?: Record<string, unknown> }>;
        };
        const summary = Object.entries(agent.modules ?? {}).map(([name, m]) => {
          const chunks = Object.keys(m.settings ?? {}).filter((k) => k.startsWith('createOptions')).length;
          return `${name} ← ${String(m.settings?.['image'])} (createOptions in ${chunks} chunk${chunks === 1 ? '' : 's'})`;
        });
        process.stdout.write(
          `wrote ${path.relative(cwd, file)}: valid IoT Edge manifest; ${summary.join('; ')}\n`,
        );
      }
    }
    return 0;
  } catch (err) {
    if (!isDeploymentError(err)) throw err;
    process.stderr.write(`deployment:gen: ${err.message.split('\n')[0]}\n`);
    if (err.problems.length > 0) process.stderr.write(`${formatProblems(err.problems)}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), process.env, process.cwd());
}
