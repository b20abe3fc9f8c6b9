/** Onboarding for the fleet: DPS enrollment and registration, device tags, IoT Edge config.toml, automatic deployments. */
export { ProvisioningError, isProvisioningError } from './errors';
export type { ProvisioningErrorCode } from './errors';
export { provisionDevice, endpointHost } from './location/provision-device';
export type {
  ProvisionDeviceOptions,
  ProvisionDeviceResult,
  DeviceRegistrar,
} from './location/provision-device';
export { deriveDeviceKey } from './location/device-key';
export {
  renderEdgeConfigToml,
  parseEdgeConfigToml,
  writeEdgeConfigToml,
  DPS_GLOBAL_ENDPOINT,
} from './location/config-toml';
export type { EdgeDpsConfig } from './location/config-toml';
export { ensureEnrollmentGroup, DEFAULT_ENROLLMENT_GROUP } from './location/enrollment';
export { writeRelayTag } from './location/device-twin';
export {
  locationDeclaration,
  gatewayDeclaration,
  parseServiceFlag,
  relayTagValue,
  RELAY_TAG,
} from './location/tags';
export type {
  LocationDeclaration,
  GatewayDeclaration,
  RelayDeclaration,
  ServiceDeclaration,
} from './location/tags';
export { provisionDeployments } from './adm/provision-deployments';
export type { ProvisionDeploymentsOptions } from './adm/provision-deployments';
export {
  planDeployments,
  buildDeploymentContents,
  contentHash,
  TARGET_CONDITIONS,
  DEFAULT_PRIORITIES,
} from './adm/plan';
export type { PlannedDeployment, DeploymentRole, DeploymentContents } from './adm/plan';
export { applyDeployments } from './adm/apply';
export type { DeploymentResult, DeploymentOutcome } from './adm/apply';
export { runProvisionCli, EXIT } from './cli/run';
