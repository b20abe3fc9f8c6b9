import { IotHubError } from './errors';
import { IdentityRecord } from './identity';
import { HubRight, PolicyRecord } from './policies';
import { Registry } from './registry';
import { ParsedSasToken, parseSasToken, signatureMatches } from './sas';

/** Why a device connection was refused; the MQTT front turns it into a CONNACK code. */
export type DeviceAuthFailure =
  | 'bad-client-id'
  | 'bad-username'
  | 'bad-token'
  | 'expired'
  | 'unknown-identity'
  | 'disabled'
  | 'bad-signature';

/** An authenticated device or module connection. */
export interface DeviceAuthSuccess {
  deviceId: string;
  moduleId?: string;
  /** Token expiry (epoch seconds); IoT Hub drops the connection then. */
  expirySec: number;
}

/** Checks SAS tokens against identities and hub policies. Host names are compared case-insensitively. */
export class HubAuthenticator {
  private hosts = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly policies: () => readonly PolicyRecord[],
    hostNames: readonly string[],
    private readonly nowSec: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.setHostNames(hostNames);
  }

  /** Sets the host names tokens and usernames may name (known only once the port is bound). */
  setHostNames(hostNames: readonly string[]): void {
    this.hosts = new Set(hostNames.map((h) => h.toLowerCase()));
  }

  /** Authenticates an MQTT CONNECT: client id `device` or `device/module`, username `{host}/{clientId}/?api-version=…`. */
  authenticateDevice(
    clientId: string,
    username: string | undefined,
    password: string | undefined,
  ): DeviceAuthSuccess | { failure: DeviceAuthFailure } {
    const parts = clientId.split('/');
    if (parts.length > 2 || parts.some((p) => p.length === 0)) return { failure: 'bad-client-id' };
    const [deviceId = '', moduleId] = parts;
    if (!username || !this.usernameMatches(username, clientId)) return { failure: 'bad-username' };
    const token = password ? parseSasToken(password) : undefined;
    if (!token) return { failure: 'bad-token' };
    if (token.expirySec <= this.nowSec()) return { failure: 'expired' };
    const identity = this.registry.findIdentity(deviceId, moduleId);
    if (!identity) return { failure: 'unknown-identity' };
    const expected = moduleId ? `devices/${deviceId}/modules/${moduleId}` : `devices/${deviceId}`;
    if (!this.resourceIs(token, expected)) return { failure: 'bad-token' };
    if (!this.signedByIdentityOrPolicy(token, identity)) return { failure: 'bad-signature' };
    if (identity.status === 'disabled') return { failure: 'disabled' };
    return moduleId
      ? { deviceId, moduleId, expirySec: token.expirySec }
      : { deviceId, expirySec: token.expirySec };
  }

  private signedByIdentityOrPolicy(token: ParsedSasToken, identity: IdentityRecord): boolean {
    if (token.keyName) {
      const policy = this.policies().find((p) => p.keyName === token.keyName);
      return (
        !!policy &&
        policy.rights.includes('DeviceConnect') &&
        signatureMatches(token, [policy.primaryKey, policy.secondaryKey])
      );
    }
    return (
      identity.authType === 'sas' &&
      signatureMatches(token, [identity.keys.primaryKey, identity.keys.secondaryKey])
    );
  }

  /**
   * Authenticates a service REST call (the `Authorization` header) with a hub-level policy holding at
   * least one of `anyOf`; throws IotHubUnauthorizedAccess (401) otherwise.
   */
  authenticateService(authorization: string | undefined, anyOf: readonly HubRight[]): PolicyRecord {
    const token = authorization ? parseSasToken(authorization) : undefined;
    if (!token) throw unauthorized('missing or malformed SharedAccessSignature');
    if (token.expirySec <= this.nowSec()) throw unauthorized('token expired');
    if (!this.resourceIs(token, '')) throw unauthorized('token audience is not this hub');
    const policy = this.policies().find((p) => p.keyName === token.keyName);
    if (!policy || !signatureMatches(token, [policy.primaryKey, policy.secondaryKey])) {
      throw unauthorized('signature does not match a shared access policy');
    }
    if (!anyOf.some((r) => policy.rights.includes(r))) {
      throw unauthorized(`policy '${policy.keyName}' lacks ${anyOf.join(' or ')}`);
    }
    return policy;
  }

  private usernameMatches(username: string, clientId: string): boolean {
    const slash = username.indexOf('/');
    if (slash <= 0) return false;
    const host = username.slice(0, slash).toLowerCase();
    const rest = username.slice(slash + 1);
    return this.hosts.has(host) && (rest === clientId || rest.startsWith(`${clientId}/`));
  }

  // The token resource is `{host}` or `{host}/{path}`; the host part is case-insensitive, ids are not.
  private resourceIs(token: ParsedSasToken, path: string): boolean {
    const resource = token.resource.replace(/\/+$/, '');
    const slash = resource.indexOf('/');
    const host = (slash < 0 ? resource : resource.slice(0, slash)).toLowerCase();
    const rest = slash < 0 ? '' : resource.slice(slash + 1);
    return this.hosts.has(host) && rest === path;
  }
}

function unauthorized(reason: string): IotHubError {
  return new IotHubError('IotHubUnauthorizedAccess', `Unauthorized: ${reason}`);
}
