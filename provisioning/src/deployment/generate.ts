import { applyCreateOptions } from './create-options';
import { childPointer, DeploymentError, formatProblems } from './errors';
import { expandGatewayInstances, gatewayInstanceCount, GATEWAY_MODULES_VARIABLE } from './gateway-instances';
import { ModuleMetadata, moduleImageResolver } from './module-metadata';
import { checkNamespaceGrowth } from './namespace-growth';
import { expandPlaceholders } from './placeholders';
import { dropEmptyRegistryCredentials } from './registry-credentials';
import { checkRelayNamespaces } from './relay-namespaces';
import { validateManifest } from './validate';

/** A deployment manifest as `az iot edge set-modules --content` takes it. */
export interface DeploymentManifest {
  modulesContent: Record<string, Record<string, unknown>>;
}

/** Everything generateManifest reads; it reads nothing else (no files, no environment). */
export interface GenerateOptions {
  /** Platform key to build images for, e.g. "amd64" or "arm64v8". */
  readonly platform: string;
  /** Module metadata by folder name, from each modules/<folder>/module.json. */
  readonly modules: Readonly<Record<string, ModuleMetadata>>;
  /** Values for `${NAME}` placeholders (environment merged with .env). */
  readonly variables: Readonly<Record<string, string | undefined>>;
}

/** Template-only keys the IoT Edge tooling strips from generated manifests. */
const TEMPLATE_KEYS = ['$schema-template'];

/**
 * Turns a deployment template into a manifest for one platform: repeats relay-gateway `GATEWAY_MODULES` times
 * (expandGatewayInstances), expands `${MODULES.<folder>}` and `${NAME}` placeholders, stringifies every createOptions object and cuts it into 512-character
 * chunks, then validates the result against the IoT Edge rules. Throws DeploymentError listing the
 * path of every problem; the template is not modified.
 */
export function generateManifest(template: unknown, options: GenerateOptions): DeploymentManifest {
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new DeploymentError('DEPLOYMENT_BAD_TEMPLATE', 'a deployment template must be a JSON object', [
      { path: '', message: 'must be an object' },
    ]);
  }
  const stripped = Object.fromEntries(
    Object.entries(template).filter(([key]) => !TEMPLATE_KEYS.includes(key)),
  );
  // GATEWAY_MODULES (default 1) repeats relay-gateway; the controller module's environment gets the same count.
  const instances = gatewayInstanceCount(options.variables);
  checkRelayNamespaces(options.variables);
  checkNamespaceGrowth(options.variables);
  const expanded = expandPlaceholders(expandGatewayInstances(stripped, instances), {
    variables: { ...options.variables, [GATEWAY_MODULES_VARIABLE]: String(instances) },
    resolveModuleImage: moduleImageResolver(options.modules, options.platform),
  });
  const manifest = chunkAllCreateOptions(dropEmptyRegistryCredentials(expanded));
  const problems = validateManifest(manifest);
  if (problems.length > 0) {
    throw new DeploymentError(
      'DEPLOYMENT_INVALID_MANIFEST',
      `the ${options.platform} manifest breaks ${problems.length} IoT Edge rule${problems.length > 1 ? 's' : ''}:\n${formatProblems(problems)}`,
      problems,
    );
  }
  return manifest as unknown as DeploymentManifest;
}

/** Applies applyCreateOptions to the settings of every system and custom module in $edgeAgent. */
function chunkAllCreateOptions(doc: Record<string, unknown>): Record<string, unknown> {
  const content = asRecord(doc['modulesContent']);
  const agent = asRecord(asRecord(content?.['$edgeAgent'])?.['properties.desired']);
  if (!content || !agent) return doc; // validation reports the missing structure
  const agentPath = '/modulesContent/$edgeAgent/properties.desired';
  const nextAgent: Record<string, unknown> = { ...agent };
  for (const group of ['systemModules', 'modules']) {
    const entries = asRecord(agent[group]);
    if (!entries) continue;
    nextAgent[group] = Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => {
        const record = asRecord(entry);
        const settings = asRecord(record?.['settings']);
        if (!record || !settings) return [name, entry];
        const path = childPointer(childPointer(childPointer(agentPath, group), name), 'settings');
        return [name, { ...record, settings: applyCreateOptions(settings, path) }];
      }),
    );
  }
  const agentTwin = asRecord(content['$edgeAgent']) ?? {};
  return {
    ...doc,
    modulesContent: { ...content, $edgeAgent: { ...agentTwin, 'properties.desired': nextAgent } },
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
