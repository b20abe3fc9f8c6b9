import { parseNamespaceGrowthVariables } from '../../../cloud/src/cli-options';
import { resolveNamespaceGrowth } from '../../../cloud/src/namespace-settings';
import { DeploymentError } from './errors';

/** The controller module's namespace-growth variables (docs/fleet-controller.md, "Namespaces created through ARM"). */
export const NAMESPACE_GROWTH_VARIABLES = [
  'CREATE_NAMESPACES',
  'CREATED_NAMESPACE_PREFIX',
  'CREATED_NAMESPACE_REGION',
  'CREATED_NAMESPACE_RESOURCE_GROUP',
  'NAMESPACE_CREATE_TIMEOUT',
] as const;

/**
 * Checks CREATE_NAMESPACES and its companions with the controller's own parser and settings check (empty means
 * unset: no growth, default group and timeout), so `CREATE_NAMESPACES=2` without a prefix or region fails at
 * `deployment:gen` with the controller's message rather than as a module that exits 64 on every gateway VM.
 */
export function checkNamespaceGrowth(variables: Readonly<Record<string, string | undefined>>): void {
  const problems: string[] = [];
  const input = parseNamespaceGrowthVariables(variables, problems);
  // The settings check (prefix and region forms, 1-999) only means something once the variables parsed.
  if (problems.length === 0) resolveNamespaceGrowth(input, problems);
  if (problems.length > 0)
    throw new DeploymentError(
      'DEPLOYMENT_BAD_TEMPLATE',
      `the fleet controller would refuse its namespace growth variables (${NAMESPACE_GROWTH_VARIABLES.join(', ')}): ${problems.join('; ')}`,
      problems.map((message) => ({ path: '', message })),
    );
}
