import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  findRepoRoot,
  FLEET_TEMPLATES,
  generateManifest,
  loadFleetFragments,
  loadModules,
  loadVariables,
  toBaseModulesContent,
  toLayeredModulesContent,
  type FleetFragmentOptions,
} from '../deployment';
import { readJson } from '../deployment/fleet';
import { ProvisioningError } from '../errors';

/** The three automatic deployments of the fleet. */
export type DeploymentRole = 'base' | 'forwarder' | 'gateway';

/** `modulesContent` of an IoT Edge deployment. */
export type ModulesContent = Record<string, Record<string, unknown>>;

/** One automatic deployment as it should exist in IoT Hub. */
export interface PlannedDeployment {
  readonly role: DeploymentRole;
  /** `{prefix}-{role}-{first 10 hex of the content's sha256}`: new content gets a new id (content is immutable). */
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly targetCondition: string;
  readonly priority: number;
  readonly modulesContent: ModulesContent;
}

/** Label every deployment this tool creates carries; with `deployment` it finds older versions to remove. */
export const MANAGED_BY_LABEL = { managedBy: 'hybrid-relay-fleet' } as const;

/**
 * Target conditions on the tag model the fleet controller reads (`tags.relay.role`). The base deployment
 * (edgeAgent, edgeHub) goes to every relay device; the layers add the one module each role runs.
 */
export const TARGET_CONDITIONS: Readonly<Record<DeploymentRole, string>> = {
  base: "tags.relay.role='location' OR tags.relay.role='gateway'",
  forwarder: "tags.relay.role='location'",
  gateway: "tags.relay.role='gateway'",
};

/**
 * Priorities: a layer must outrank the base it builds on (IoT Edge ignores lower layers), and a base of higher
 * priority an operator adds for some devices (e.g. 50, a runtime trial) then needs its own layers.
 */
export const DEFAULT_PRIORITIES: Readonly<Record<DeploymentRole, number>> = {
  base: 10,
  forwarder: 20,
  gateway: 20,
};

/** The contents of the three deployments. */
export type DeploymentContents = Readonly<Record<DeploymentRole, ModulesContent>>;

/**
 * Builds the contents from the repository's manifest templates through `provisioning/src/deployment` — the same
 * source as `npm run deployment:gen`: the base from the edge-location manifest with its custom modules and routes
 * removed, each layer from its module's fragment (module entry and routes; never the module twin's desired
 * properties, which the fleet controller owns).
 */
export function buildDeploymentContents(options: FleetFragmentOptions = {}): DeploymentContents {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const variables = options.variables ?? loadVariables(path.join(repoRoot, '.env'), process.env);
  const platform = options.platform ?? 'amd64';
  const fragments = loadFleetFragments({ repoRoot, platform, variables });
  const manifest = generateManifest(readJson(path.join(repoRoot, FLEET_TEMPLATES['relay-forwarder'])), {
    platform,
    modules: loadModules(repoRoot),
    variables,
  });
  return {
    base: toBaseModulesContent(manifest),
    forwarder: toLayeredModulesContent([fragments['relay-forwarder']]),
    gateway: toLayeredModulesContent([...fragments.gatewayInstances, fragments['fleet-controller']]),
  };
}

/** Options of planDeployments. */
export interface PlanOptions {
  /** Deployment id prefix (lower case, digits, `-`); `relay` when absent. Two fleets in one hub need two prefixes. */
  readonly prefix?: string;
  readonly priorities?: Partial<Record<DeploymentRole, number>>;
}

const PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** The deployments for the given contents: ids from content hashes, target conditions, priorities, labels. */
export function planDeployments(
  contents: DeploymentContents,
  options: PlanOptions = {},
): PlannedDeployment[] {
  const prefix = options.prefix ?? 'relay';
  if (!PREFIX.test(prefix))
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `deployment prefix "${prefix}" must be 1-40 lower-case letters, digits or inner hyphens`,
      false,
    );
  const roles: DeploymentRole[] = ['base', 'forwarder', 'gateway'];
  return roles.map((role) => {
    const priority = options.priorities?.[role] ?? DEFAULT_PRIORITIES[role];
    if (!Number.isInteger(priority) || priority < 0)
      throw new ProvisioningError(
        'PROVISION_BAD_INPUT',
        `priority of ${role} must be a whole number ≥ 0`,
        false,
      );
    return {
      role,
      id: `${prefix}-${role}-${contentHash(contents[role])}`,
      labels: { ...MANAGED_BY_LABEL, deployment: `${prefix}-${role}` },
      targetCondition: TARGET_CONDITIONS[role],
      priority,
      modulesContent: contents[role],
    };
  });
}

/** First 10 hex digits of the sha256 of the content as canonical JSON (object keys sorted at every level). */
export function contentHash(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 10);
}

/** JSON with object keys sorted, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
