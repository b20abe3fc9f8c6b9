/** Public surface of the sandbox IoT Hub. */
export { startSandboxIotHub } from './hub';
export type { SandboxIotHubOptions } from './hub';
export { SandboxIotHub } from './sandbox-hub';
export type { HubConnectionInfo } from './sandbox-hub';
export type { HubMessage } from './message-feed';
export type { RegistryEvent } from './registry';
export { createIotHubServiceClients, HostPortAgent } from '../../../cloud/src/azure/iothub-service-clients';
export type { IotHubServiceClients } from '../../../cloud/src/azure/iothub-service-clients';
export { IotHubError, isIotHubError } from './errors';
export type { IotHubErrorCode } from './errors';
export type { HubLogger } from './logger';
