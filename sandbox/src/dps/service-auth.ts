import { generateSymmetricKey, parseSasToken, signatureMatches } from '../iothub/sas';
import { DpsError } from './errors';

/** A shared access policy of the provisioning service (the sandbox has one with every right). */
export interface DpsPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
}

/** Name of the all-rights policy, as Azure names it. */
export const OWNER_POLICY = 'provisioningserviceowner';

/** The policies a new sandbox DPS starts with. */
export function defaultPolicies(): DpsPolicy[] {
  return [
    { keyName: OWNER_POLICY, primaryKey: generateSymmetricKey(), secondaryKey: generateSymmetricKey() },
  ];
}

/**
 * Checks a service API `Authorization` header: a SAS token for one of the service's host names, signed by a
 * policy key (base64-decoded, as for IoT Hub), unexpired. Every failure is 401.
 */
export function authenticateService(
  header: string | undefined,
  policies: readonly DpsPolicy[],
  hostNames: readonly string[],
  nowMs = Date.now(),
): DpsPolicy {
  const token = header ? parseSasToken(header.trim()) : undefined;
  if (!token) throw new DpsError('Unauthorized', 'a SharedAccessSignature Authorization header is required');
  if (token.expirySec <= Math.floor(nowMs / 1000))
    throw new DpsError('Unauthorized', 'the token has expired');
  const resource = token.resource.toLowerCase().replace(/\/+$/, '');
  if (!hostNames.some((h) => h.toLowerCase() === resource))
    throw new DpsError('Unauthorized', 'the token is not for this provisioning service');
  const policy = policies.find((p) => p.keyName === token.keyName);
  if (!policy || !signatureMatches(token, [policy.primaryKey, policy.secondaryKey]))
    throw new DpsError('Unauthorized', 'the token signature is not valid');
  return policy;
}
