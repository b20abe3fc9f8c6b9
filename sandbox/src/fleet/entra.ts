// Microsoft Entra ID for the sandbox fleet (SANDBOX_RELAY_AUTH=entra): the relay trusts a sandbox issuer and
// refuses SAS, and every simulated machine gets its own managed identity endpoint, so each module authenticates
// as its machine's system-assigned identity, as on an Azure VM or an Azure Arc-enabled server.
import { DEFAULT_SETTINGS } from '../../../cloud/src/settings';
import {
  startSandboxIdentityEndpoint,
  type SandboxEntraIssuer,
  type SandboxIdentityEndpoint,
  type SandboxRoleAssignment,
} from '../entra';
import type { SandboxRelay } from '../relay';
import { trustEntraIssuer } from '../relay/entra-auth';
import type { Logger } from '../../../modules/common/src/log';

/** The fleet's Entra ID stand-in. */
export interface FleetEntra {
  /** Makes one more namespace's relay trust the issuer, SAS disabled (a namespace created later). */
  trust(relay: SandboxRelay): void;
  /** Creates `deviceId`'s identity with `roles` and returns the environment its modules get (IDENTITY_*). */
  deviceEnvironment(
    deviceId: string,
    roles: readonly SandboxRoleAssignment[],
  ): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** The roles of a location's machine: Azure Relay Listener on its own hybrid connection only. */
export function locationRoles(locationId: string): SandboxRoleAssignment[] {
  return [
    { role: 'Azure Relay Listener', entity: `${DEFAULT_SETTINGS.hybridConnectionPrefix}${locationId}` },
  ];
}

/** The roles of the gateway pool's machine: Azure Relay Sender on the namespace (it serves every location). */
export const GATEWAY_ROLES: readonly SandboxRoleAssignment[] = [{ role: 'Azure Relay Sender' }];

/**
 * Makes every namespace's relay trust the fleet's issuer with local (SAS) auth disabled. The roles claim names no
 * namespace, so a machine's roles hold in each (in Azure: one role assignment per namespace, or on the group).
 */
export function startFleetEntra(
  relays: readonly SandboxRelay[],
  issuer: SandboxEntraIssuer,
  logger?: Logger,
): FleetEntra {
  const trust = (relay: SandboxRelay): void =>
    trustEntraIssuer(relay.registry, { trust: issuer.trust, disableLocalAuth: true });
  for (const relay of relays) trust(relay);
  const endpoints: SandboxIdentityEndpoint[] = [];
  return {
    trust,
    async deviceEnvironment(deviceId, roles) {
      const clientId = `${deviceId}-system-assigned`;
      issuer.addIdentity({ clientId, roles });
      const endpoint = await startSandboxIdentityEndpoint({
        issuer,
        systemAssignedClientId: clientId,
        ...(logger !== undefined && { logger }),
      });
      endpoints.push(endpoint);
      return endpoint.environment();
    },
    async stop() {
      await Promise.all(endpoints.splice(0).map((e) => e.stop()));
    },
  };
}
