import type { Registry } from 'azure-iothub';
import type { FleetFragmentOptions } from '../deployment';
import { applyDeployments, type DeploymentResult } from './apply';
import { buildDeploymentContents, planDeployments, type DeploymentContents, type PlanOptions } from './plan';

/** Options of provisionDeployments. */
export interface ProvisionDeploymentsOptions extends PlanOptions {
  /** A Registry with RegistryWrite (`createIotHubServiceClients`). */
  readonly registry: Registry;
  /** Template inputs (repository root, platform, placeholder variables); ignored when `contents` is given. */
  readonly fleet?: FleetFragmentOptions;
  /** Ready-made contents (tests); built from the templates when absent. */
  readonly contents?: DeploymentContents;
  readonly dryRun?: boolean;
}

/**
 * Creates or updates the fleet's automatic deployments: a base (edgeAgent/edgeHub) on every relay device, a layer
 * with relay-forwarder on every location, a layer with relay-gateway on every gateway. Idempotent: a second run
 * reports every deployment "unchanged".
 */
export async function provisionDeployments(
  options: ProvisionDeploymentsOptions,
): Promise<DeploymentResult[]> {
  const contents = options.contents ?? buildDeploymentContents(options.fleet);
  const planned = planDeployments(contents, options);
  return applyDeployments(options.registry, planned, {
    ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
  });
}
