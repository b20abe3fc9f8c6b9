import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mergeVariables, parseEnvFile } from './env-file';
import { DeploymentError } from './errors';
import { extractModuleFragment, ModuleFragment } from './fragments';
import { gatewayInstanceCount, gatewayInstanceName } from './gateway-instances';
import { DeploymentManifest, generateManifest } from './generate';
import { ModuleMetadata, parseModuleJson } from './module-metadata';

/** The fleet's two templates: the edge-location manifest and the gateway VM manifest. */
export const FLEET_TEMPLATES = {
  'relay-forwarder': 'deployment.template.json',
  'relay-gateway': 'deployment.gateway.template.json',
} as const;

/** Name of a fleet module. */
export type FleetModuleName = keyof typeof FLEET_TEMPLATES;

/** The controller ships in the gateway template: the gateway pool runs it, beside relay-gateway. */
export const CONTROLLER_MODULE = 'fleet-controller';

/** The directory holding deployment.template.json, searched upwards from `start` (works from src and dist). */
export function findRepoRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    if (
      existsSync(path.join(dir, FLEET_TEMPLATES['relay-forwarder'])) &&
      existsSync(path.join(dir, 'modules'))
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new DeploymentError(
        'DEPLOYMENT_BAD_TEMPLATE',
        `no ${FLEET_TEMPLATES['relay-forwarder']} above ${start}`,
      );
    dir = parent;
  }
}

/** Reads every modules/<folder>/module.json under the repository root. */
export function loadModules(repoRoot: string): Record<string, ModuleMetadata> {
  const modulesDir = path.join(repoRoot, 'modules');
  const out: Record<string, ModuleMetadata> = {};
  for (const folder of readdirSync(modulesDir).sort()) {
    const file = path.join(modulesDir, folder, 'module.json');
    if (existsSync(file)) out[folder] = parseModuleJson(folder, readJson(file));
  }
  return out;
}

/** Parses a JSON file, naming the file when it is not JSON. */
export function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DeploymentError(
      'DEPLOYMENT_BAD_TEMPLATE',
      `${file} is not valid JSON: ${(err as Error).message}`,
      [],
      { cause: err },
    );
  }
}

/** Placeholder variables: `envFile` (when it exists) overridden by `env`. */
export function loadVariables(
  envFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const fileVars =
    envFile && existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8'), path.basename(envFile)) : {};
  return mergeVariables(fileVars, env);
}

/** Options for loadFleetFragments. */
export interface FleetFragmentOptions {
  /** Repository root; found from this file's location when absent. */
  readonly repoRoot?: string;
  /** Platform to build image references for; amd64 when absent. */
  readonly platform?: string;
  /** Placeholder values; `<repoRoot>/.env` merged with process.env when absent. */
  readonly variables?: Readonly<Record<string, string | undefined>>;
}

/**
 * Generates both fleet manifests from the repository's templates and returns the forwarder's, the
 * gateway's and the controller's fragments (module entry, routes, default desired properties): the provisioning
 * CLI's layered deployments come from the same source as `npm run deployment:gen`.
 */
export function loadFleetFragments(options: FleetFragmentOptions = {}): Record<
  FleetModuleName | typeof CONTROLLER_MODULE,
  ModuleFragment
> & {
  /** Every relay-gateway instance (`relay-gateway`, `relay-gateway-2`, … per GATEWAY_MODULES), in order. */
  readonly gatewayInstances: readonly ModuleFragment[];
} {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const platform = options.platform ?? 'amd64';
  const variables = options.variables ?? loadVariables(path.join(repoRoot, '.env'), process.env);
  const modules = loadModules(repoRoot);
  const manifest = (template: string): DeploymentManifest =>
    generateManifest(readJson(path.join(repoRoot, template)), { platform, modules, variables });
  const edge = manifest(FLEET_TEMPLATES['relay-forwarder']);
  const gateway = manifest(FLEET_TEMPLATES['relay-gateway']);
  const instances = gatewayInstanceCount(variables);
  return {
    'relay-forwarder': extractModuleFragment(edge, 'relay-forwarder'),
    'relay-gateway': extractModuleFragment(gateway, 'relay-gateway'),
    [CONTROLLER_MODULE]: extractModuleFragment(gateway, CONTROLLER_MODULE),
    gatewayInstances: Array.from({ length: instances }, (_, i) =>
      extractModuleFragment(gateway, gatewayInstanceName(i + 1)),
    ),
  };
}
