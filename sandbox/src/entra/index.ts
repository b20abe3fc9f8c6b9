/** The sandbox Microsoft Entra ID stand-in: an RS256 issuer and an App Service style managed identity endpoint. */
export {
  createSandboxEntraIssuer,
  rolesClaim,
  RELAY_AUDIENCE,
  type RelayRoleName,
  type SandboxEntraIssuer,
  type SandboxEntraIssuerOptions,
  type SandboxEntraTrust,
  type SandboxIdentity,
  type SandboxRoleAssignment,
} from './issuer';
export {
  startSandboxIdentityEndpoint,
  APP_SERVICE_MSI_API_VERSION,
  type SandboxIdentityEndpoint,
  type SandboxIdentityEndpointOptions,
} from './identity-endpoint';
