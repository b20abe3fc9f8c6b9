import type { Registry } from 'azure-iothub';
import { describeSdkError, httpStatusOf, ProvisioningError } from '../errors';
import type { RelayDeclaration } from '../location/tags';

/**
 * The cheap checks `provision location|gateway` makes before it writes anything (DPS enrollment, registration):
 * one IoT Hub query, which proves the credential and lists the pools the hub's gateway devices serve.
 * A refused credential is PROVISION_CREDENTIAL_REFUSED (exit 77), an unreachable hub PROVISION_IOTHUB_FAILED.
 */
export async function gatewayPoolsInHub(registry: Registry): Promise<Set<string>> {
  const query = registry.createQuery("SELECT * FROM devices WHERE tags.relay.role = 'gateway'", 1000);
  let twins: { tags?: { relay?: { pool?: unknown } } }[];
  try {
    twins = (await query.nextAsTwin()).result as typeof twins;
  } catch (err) {
    const status = httpStatusOf(err);
    if (status === 401 || status === 403)
      throw new ProvisioningError(
        'PROVISION_CREDENTIAL_REFUSED',
        `IoT Hub refused the credential (${describeSdkError(err)}); nothing was written — check --iothub-connection-string / IOTHUB_CONNECTION_STRING (a policy with RegistryWrite)`,
        false,
        { cause: err },
      );
    const retryable = status === undefined || status >= 500 || status === 429;
    throw new ProvisioningError(
      'PROVISION_IOTHUB_FAILED',
      `IoT Hub cannot be queried (${describeSdkError(err)}); nothing was written — check the HostName and the network`,
      retryable,
      { cause: err },
    );
  }
  return new Set(twins.map((t) => (typeof t.tags?.relay?.pool === 'string' ? t.tags.relay.pool : 'default')));
}

/** The pool names of a controller `--pools` value (a JSON list of `{ name }` or an object keyed by name). */
export function poolNamesOf(poolsJson: string): Set<string> {
  let raw: unknown;
  try {
    raw = JSON.parse(poolsJson);
  } catch (err) {
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `--pools is not JSON: ${(err as Error).message}`,
      false,
    );
  }
  const names = Array.isArray(raw)
    ? raw.map((p) => (p as { name?: unknown }).name)
    : typeof raw === 'object' && raw !== null
      ? Object.keys(raw)
      : [];
  if (names.length === 0 || names.some((n) => typeof n !== 'string'))
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      '--pools must be the controller\'s pools: [{"name", …}, …]',
      false,
    );
  return new Set(names as string[]);
}

/**
 * Refuses a location whose pool the fleet does not know: the controller's pools when given (`--pools` or
 * CONTROLLER_POOLS), else the pools the hub's gateway devices serve (when there are any). An absent pool means
 * the controller's default pool and is not checked here.
 */
export function checkDeclaredPool(
  declaration: RelayDeclaration,
  controllerPools: Set<string> | undefined,
  gatewayPools: Set<string>,
): void {
  if (declaration.role !== 'location' || declaration.pool === undefined) return;
  const known = controllerPools ?? gatewayPools;
  if (known.size === 0 || known.has(declaration.pool)) return;
  const source = controllerPools
    ? "the controller's pools (--pools / CONTROLLER_POOLS)"
    : 'the pools of the gateway devices in IoT Hub';
  throw new ProvisioningError(
    'PROVISION_BAD_INPUT',
    `pool "${declaration.pool}" is not one of ${source}: ${[...known].sort().join(', ')}; nothing was written`,
    false,
  );
}
