import type { Configuration, Registry } from 'azure-iothub';
import { jsonEqual, type JsonValue } from '../../../modules/common/src/twin/json';
import { hubError } from '../location/device-twin';
import { ProvisioningError, httpStatusOf } from '../errors';
import { MANAGED_BY_LABEL, type DeploymentRole, type PlannedDeployment } from './plan';

/** What happened to one deployment. */
export type DeploymentOutcome = 'created' | 'updated' | 'unchanged';

/** One deployment's result: its id, what was done, and older versions removed (by id). */
export interface DeploymentResult {
  readonly role: DeploymentRole;
  readonly id: string;
  readonly outcome: DeploymentOutcome;
  /** Target condition, priority or labels that were changed in place (content never changes in place). */
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** Options of applyDeployments. */
export interface ApplyOptions {
  /** Report what would be done without writing anything. */
  readonly dryRun?: boolean;
}

/**
 * Makes IoT Hub hold exactly the planned deployments, idempotently: a deployment with the planned id and content
 * is left alone ("unchanged") or has only its target condition / priority / labels updated (etag-guarded);
 * a missing one is created; then older versions of the same deployment (same `deployment` label, other content
 * hash) are removed — after the new one exists, so targeted devices never go through a moment without it (at
 * equal priority the newest deployment wins).
 */
export async function applyDeployments(
  registry: Registry,
  planned: readonly PlannedDeployment[],
  options: ApplyOptions = {},
): Promise<DeploymentResult[]> {
  const existing = await hubCall(
    'list deployments',
    async () => (await registry.getConfigurations()).responseBody,
  );
  const results: DeploymentResult[] = [];
  for (const plan of planned) {
    const found = existing.find((c) => c.id === plan.id) ?? (await getIfExists(registry, plan.id));
    let outcome: DeploymentOutcome;
    let changed: string[] = [];
    if (!found) {
      if (!options.dryRun) {
        await hubCall(`create deployment ${plan.id}`, () =>
          registry.addConfiguration({
            id: plan.id,
            schemaVersion: '1.0',
            labels: { ...plan.labels },
            content: { modulesContent: plan.modulesContent },
            targetCondition: plan.targetCondition,
            priority: plan.priority,
          }),
        );
      }
      outcome = 'created';
    } else {
      if (!jsonEqual(found.content?.modulesContent as JsonValue, plan.modulesContent as JsonValue)) {
        throw new ProvisioningError(
          'PROVISION_DEPLOYMENT_CONFLICT',
          `deployment ${plan.id} exists with other content (not made by this tool?); delete it or pass another --prefix`,
          false,
        );
      }
      changed = changedFields(found, plan);
      if (changed.length > 0 && !options.dryRun) {
        await hubCall(`update deployment ${plan.id}`, () =>
          registry.updateConfiguration({
            ...found,
            labels: { ...plan.labels },
            targetCondition: plan.targetCondition,
            priority: plan.priority,
          }),
        );
      }
      outcome = changed.length > 0 ? 'updated' : 'unchanged';
    }
    const stale = existing.filter((c) => c.id !== plan.id && isVersionOf(c, plan)).map((c) => c.id);
    if (!options.dryRun) {
      for (const id of stale) {
        await hubCall(`remove the older deployment ${id}`, async () => {
          try {
            await registry.removeConfiguration(id);
          } catch (err) {
            // Someone removed it meanwhile: the goal is reached.
            if (httpStatusOf(err) !== 404) throw err;
          }
        });
      }
    }
    results.push({ role: plan.role, id: plan.id, outcome, changed, removed: stale });
  }
  return results;
}

// The list call may be capped by the hub (it has a `top`); a direct read settles whether the id exists.
async function getIfExists(registry: Registry, id: string): Promise<Configuration | undefined> {
  try {
    return (await registry.getConfiguration(id)).responseBody;
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw hubError(`read deployment ${id}`, err);
  }
}

/** True when `config` is a version of the planned deployment (same labels, made by this tool). */
function isVersionOf(config: Configuration, plan: PlannedDeployment): boolean {
  return (
    config.labels?.managedBy === MANAGED_BY_LABEL.managedBy &&
    config.labels?.deployment === plan.labels.deployment
  );
}

function changedFields(found: Configuration, plan: PlannedDeployment): string[] {
  const changed: string[] = [];
  if (found.targetCondition !== plan.targetCondition) changed.push('targetCondition');
  if (found.priority !== plan.priority) changed.push('priority');
  if (!jsonEqual((found.labels ?? {}) as JsonValue, { ...plan.labels })) changed.push('labels');
  return changed;
}

async function hubCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProvisioningError) throw err;
    if (httpStatusOf(err) === 412)
      throw new ProvisioningError(
        'PROVISION_CONCURRENT_CHANGE',
        `${what}: changed by someone else meanwhile; run again`,
        true,
        { cause: err },
      );
    throw hubError(what, err);
  }
}
