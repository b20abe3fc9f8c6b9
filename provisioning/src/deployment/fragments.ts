import { DeploymentError } from './errors';
import { DeploymentManifest } from './generate';
import { parseRoute, routeText } from './routes';

/** One module's share of a generated manifest, for layered (ADM) deployments. */
export interface ModuleFragment {
  readonly moduleName: string;
  /** Its `$edgeAgent` modules entry, createOptions already stringified and chunked. */
  readonly edgeAgentModule: Record<string, unknown>;
  /** The `$edgeHub` routes whose source or sink names the module, by route name. */
  readonly routes: Record<string, unknown>;
  /** Its twin's default desired properties, or undefined when the manifest sets none. */
  readonly desiredProperties: Record<string, unknown> | undefined;
}

/** Options for toLayeredModulesContent. */
export interface LayeredOptions {
  /**
   * Also set the module twin's desired properties. Off by default: a layer that sets
   * `properties.desired` replaces what the fleet controller wrote into the twin.
   */
  readonly includeDesiredProperties?: boolean;
}

/** Cuts one module's entry, routes and desired properties out of a generated (validated) manifest. */
export function extractModuleFragment(manifest: DeploymentManifest, moduleName: string): ModuleFragment {
  const content = manifest.modulesContent;
  const agent = record(record(content['$edgeAgent'])?.['properties.desired']);
  const entry = record(record(agent?.['modules'])?.[moduleName]);
  if (!entry) {
    throw new DeploymentError(
      'DEPLOYMENT_UNKNOWN_MODULE',
      `the manifest does not deploy module "${moduleName}"`,
    );
  }
  const routes: Record<string, unknown> = {};
  const allRoutes = record(record(record(content['$edgeHub'])?.['properties.desired'])?.['routes']) ?? {};
  for (const [name, route] of Object.entries(allRoutes)) {
    const parsed = parseRoute(routeText(route) ?? '');
    if (parsed.ok && (parsed.route.sourceModule === moduleName || parsed.route.sinkModule === moduleName)) {
      routes[name] = structuredClone(route);
    }
  }
  const desired = record(record(content[moduleName])?.['properties.desired']);
  return {
    moduleName,
    edgeAgentModule: structuredClone(entry),
    routes,
    desiredProperties: desired ? structuredClone(desired) : undefined,
  };
}

/**
 * The modulesContent of a layered deployment that adds the given modules on top of a base
 * deployment: `properties.desired.modules.<name>` in $edgeAgent, `properties.desired.routes.<name>`
 * in $edgeHub and, when asked, each module twin's `properties.desired`.
 */
export function toLayeredModulesContent(
  fragments: readonly ModuleFragment[],
  options: LayeredOptions = {},
): Record<string, Record<string, unknown>> {
  const agent: Record<string, unknown> = {};
  const hub: Record<string, unknown> = {};
  const content: Record<string, Record<string, unknown>> = { $edgeAgent: agent, $edgeHub: hub };
  for (const fragment of fragments) {
    agent[`properties.desired.modules.${fragment.moduleName}`] = structuredClone(fragment.edgeAgentModule);
    for (const [name, route] of Object.entries(fragment.routes))
      hub[`properties.desired.routes.${name}`] = structuredClone(route);
    if (options.includeDesiredProperties && fragment.desiredProperties) {
      content[fragment.moduleName] = { 'properties.desired': structuredClone(fragment.desiredProperties) };
    }
  }
  return content;
}

/**
 * The modulesContent of a base deployment from the same manifest: runtime, registry credentials,
 * system modules and store-and-forward settings, with no custom modules, routes or module twins
 * (layers add those).
 */
export function toBaseModulesContent(manifest: DeploymentManifest): Record<string, Record<string, unknown>> {
  const content = structuredClone(manifest.modulesContent);
  const agent = record(content['$edgeAgent']?.['properties.desired']);
  const hub = record(content['$edgeHub']?.['properties.desired']);
  if (agent) agent['modules'] = {};
  if (hub) hub['routes'] = {};
  return { $edgeAgent: content['$edgeAgent'] ?? {}, $edgeHub: content['$edgeHub'] ?? {} };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
