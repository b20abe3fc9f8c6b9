import { parseNamespacesFlag } from '../../../cloud/src/cli-namespaces';
import { DeploymentError } from './errors';

/** The controller module's namespace variables: one namespace, or a JSON list of several. */
export const RELAY_NAMESPACE_VARIABLE = 'RELAY_NAMESPACE';
/** The list form (infra/fleet.json's output relayNamespaces), read by the controller as `--namespaces`. */
export const RELAY_NAMESPACES_VARIABLE = 'RELAY_NAMESPACES';

/**
 * Checks RELAY_NAMESPACE / RELAY_NAMESPACES before they reach the controller module: not both, and the list in
 * exactly the form the controller parses (its own parser), so a bad list fails at `deployment:gen` rather than
 * as a module that exits 64 on every gateway VM. Absent or empty values are the controller's business.
 */
export function checkRelayNamespaces(variables: Readonly<Record<string, string | undefined>>): void {
  const one = variables[RELAY_NAMESPACE_VARIABLE]?.trim();
  const list = variables[RELAY_NAMESPACES_VARIABLE]?.trim();
  if (!list) return;
  const problems: string[] = [];
  if (one)
    problems.push(
      `${RELAY_NAMESPACE_VARIABLE} and ${RELAY_NAMESPACES_VARIABLE} are both set: empty ${RELAY_NAMESPACE_VARIABLE} when ` +
        `${RELAY_NAMESPACES_VARIABLE} lists the namespaces`,
    );
  const parseProblems: string[] = [];
  parseNamespacesFlag(list, parseProblems);
  // The parser speaks of its flag; the operator edits the variable.
  problems.push(...parseProblems.map((p) => p.replace(/--namespaces/g, RELAY_NAMESPACES_VARIABLE)));
  if (problems.length > 0)
    throw new DeploymentError(
      'DEPLOYMENT_BAD_TEMPLATE',
      problems.join('; '),
      problems.map((message) => ({ path: '', message })),
    );
}
