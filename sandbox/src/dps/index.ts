/** The sandbox Azure IoT Hub Device Provisioning Service (symmetric-key group enrollments). */
export { startSandboxDps, type SandboxDps, type SandboxDpsOptions } from './sandbox-dps';
export {
  createDpsHttpTransport,
  createDpsMqttTransport,
  createProvisioningServiceClient,
  registerWithSymmetricKey,
  type SymmetricKeyRegistrationOptions,
} from '../../../cloud/src/azure/dps-clients';
export { deriveDeviceKey } from './keys';
export { DpsError, type DpsErrorCode } from './errors';
export type { LinkedIotHub } from './hub-link';
export type { EnrollmentGroupRecord, InitialTwin } from './enrollments';
export type { RegistrationRecord, RegistrationStatus, RegistrationSubstatus } from './registrations';
export type { DpsLogger } from './logger';
