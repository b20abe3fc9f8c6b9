import type { TokenCredential } from '@azure/identity';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';

/** Which Entra ID identity a module uses: the user-assigned identity's client id, else the system-assigned one. */
export interface EntraIdentitySettings {
  /** Client id of a user-assigned managed identity (or the workload identity's app registration). */
  readonly clientId?: string;
  /** Tenant of a workload identity; ignored by managed identity. */
  readonly tenantId?: string;
}

/**
 * The credential for `settings`, chosen from the host's environment and nothing else (no developer sign-ins, so a
 * module can never run as a person): workload identity when AZURE_FEDERATED_TOKEN_FILE is set (Kubernetes),
 * otherwise managed identity, which `@azure/identity` finds itself: IMDS on Azure VMs and scale sets, the Azure
 * Arc agent on Arc-enabled servers (IDENTITY_ENDPOINT + IMDS_ENDPOINT), App Service style hosts
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, which is also how the sandbox's identity endpoint is reached).
 */
export function createEntraCredential(
  settings: EntraIdentitySettings,
  env: NodeJS.ProcessEnv = process.env,
): TokenCredential {
  const tokenFilePath = env.AZURE_FEDERATED_TOKEN_FILE;
  if (tokenFilePath) {
    const clientId = settings.clientId ?? env.AZURE_CLIENT_ID;
    const tenantId = settings.tenantId ?? env.AZURE_TENANT_ID;
    return new WorkloadIdentityCredential({
      tokenFilePath,
      ...(clientId !== undefined && { clientId }),
      ...(tenantId !== undefined && { tenantId }),
    });
  }
  return settings.clientId !== undefined
    ? new ManagedIdentityCredential({ clientId: settings.clientId })
    : new ManagedIdentityCredential();
}

const shared = new Map<string, TokenCredential>();

/** One credential per identity for the whole process, so every hybrid connection shares its token cache. */
export function sharedEntraCredential(settings: EntraIdentitySettings): TokenCredential {
  const key = `${settings.clientId ?? ''}|${settings.tenantId ?? ''}`;
  let credential = shared.get(key);
  if (!credential) {
    credential = createEntraCredential(settings);
    shared.set(key, credential);
  }
  return credential;
}
