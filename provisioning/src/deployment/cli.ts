/**
 * npm run deployment:gen -- [--template FILE]... [--platform KEY]... [--dotenv FILE] [--out-dir DIR]
 *
 * Thin shell around generateManifest: reads templates, module.json files and .env, writes
 * config/deployment[.<name>].<platform>.json, prints what it wrote (never a variable's value).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  answerCommandLine,
  parseCommandLine,
  STANDARD_USAGE_LINES,
  stringFlag,
  stringsFlag,
  usageError,
} from '../../../modules/common/src/cli/command-line';
import { CliError } from '../../../modules/common/src/cli/cli-error';
import { ExitCode } from '../../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../../modules/common/src/cli/failure';
import { createProgress } from '../../../modules/common/src/cli/progress';
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

/** Usage text for --help and bad command lines. */
export const USAGE = `Usage: npm run deployment:gen -- [--template FILE]... [--platform KEY]... [--dotenv FILE] [--out-dir DIR]

  Writes config/deployment[.<name>].<platform>.json from the deployment templates, the modules' module.json
  and .env (the environment wins), and checks each against the IoT Edge rules. Prints what it wrote, never a
  variable's value.

  --template FILE   a deployment template (default: deployment.template.json and deployment.gateway.template.json)
  --platform KEY    an image platform of every module (default: all of them, e.g. amd64, arm64v8)
  --dotenv FILE     variables file (default .env)
  --out-dir DIR     where manifests go (default config)
${STANDARD_USAGE_LINES}
Exit codes: 0 written, 64 bad command line, 65 a template or variable is wrong (every problem is listed),
66 a template or the variables file cannot be read, 73 an output cannot be written.
`;

const NAME = 'deployment:gen';

/** Runs the generator; returns the process exit code. */
export function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): number {
  const line = parseCommandLine(argv, {
    template: { type: 'string', multiple: true },
    platform: { type: 'string', multiple: true },
    // Not --env-file: Node itself claims that flag (ts-node passes it through to node).
    dotenv: { type: 'string' },
    'out-dir': { type: 'string' },
  });
  const io = { stdout: process.stdout, stderr: process.stderr };
  if (line.kind !== 'run') return answerCommandLine(NAME, USAGE, line, io);
  const { values } = line;
  try {
    const modules = loadModules(cwd);
    const known = commonPlatforms(Object.values(modules));
    const asked = stringsFlag(values, 'platform');
    const unknown = asked.filter((p) => !known.includes(p));
    if (unknown.length > 0)
      return usageError(NAME, USAGE, `--platform ${unknown.join(', ')}: not one of ${known.join(', ')}`, io);
    const templates = stringsFlag(values, 'template');
    const platforms = asked.length > 0 ? asked : known;
    const dotenv = stringFlag(values, 'dotenv');
    const variables = loadVariables(path.resolve(cwd, dotenv ?? '.env'), env);
    const outDir = path.resolve(cwd, stringFlag(values, 'out-dir') ?? 'config');
    const progress = createProgress(process.stdout, { indent: '' });
    for (const template of templates.length > 0 ? templates : Object.values(FLEET_TEMPLATES)) {
      const doc = readTemplate(path.resolve(cwd, template));
      for (const platform of platforms) {
        const file = path.join(outDir, outputFileName(template, platform));
        const step = progress.start(`generating ${path.relative(cwd, file)}`);
        let manifest;
        try {
          manifest = generateManifest(doc, { platform, modules, variables });
        } catch (err) {
          step.fail('invalid');
          throw err;
        }
        try {
          mkdirSync(outDir, { recursive: true });
          writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
        } catch (err) {
          step.fail((err as NodeJS.ErrnoException).code ?? 'cannot write');
          throw new CliError(
            ExitCode.CANT_CREATE,
            `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
            'choose a writable --out-dir',
          );
        }
        step.done();
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
    progress.close();
    return ExitCode.OK;
  } catch (err) {
    if (!isDeploymentError(err)) return failureExit(NAME, err, process.stderr, line.debug);
    process.stderr.write(`${NAME}: ${err.message.split('\n')[0]}\n`);
    if (err.problems.length > 0) process.stderr.write(`${formatProblems(err.problems)}\n`);
    return ExitCode.DATA;
  }
}

// A template that cannot be read is the operator's file name: one line and 66, not a stack trace.
function readTemplate(file: string): unknown {
  try {
    readFileSync(file);
  } catch (err) {
    throw new CliError(
      ExitCode.NO_INPUT,
      `cannot read --template ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check the path',
    );
  }
  return readJson(file);
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), process.env, process.cwd());
}
