/** The sandbox Azure Resource Manager endpoint for Microsoft.Relay (the subset `@azure/arm-relay` needs). */
export { startSandboxArm, type SandboxArm, type SandboxArmOptions } from './server';
export { SandboxArmCredential, type SandboxArmCredentialOptions } from './credential';
export { ArmError, isArmError, type ArmErrorCode } from './errors';
export { RelayArmApi, SUPPORTED_API_VERSIONS, type ArmRequest, type ArmReply } from './api';
export { mintArmToken, verifyArmToken, ARM_AUDIENCES } from './token';
