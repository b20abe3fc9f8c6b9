import type { RelayRight } from '../../../modules/common/src/hc/sas';
import { decodeJwt, looksLikeJwt, verifyRs256Signature, type DecodedJwt } from '../entra/jwt';
import type { RelayRoleName, SandboxEntraTrust } from '../entra/issuer';
import type { AuthorizeRequest, AuthorizeResult } from './authorize';
import type { NamespaceRegistry } from './namespace-registry';

/** How a namespace treats Microsoft Entra ID tokens and SAS. */
export interface EntraAuthSettings {
  /** The issuer whose RS256 tokens are accepted. */
  readonly trust: SandboxEntraTrust;
  /** Refuse SAS tokens (401 LocalAuthDisabled), as a namespace with `disableLocalAuth: true` does. */
  readonly disableLocalAuth?: boolean;
  /** Clock skew tolerated on `exp` and `nbf`; default 0 (tests check expiry exactly). */
  readonly clockSkewMs?: number;
}

/** Rights each built-in role grants on the data plane (Owner: everything). */
export const RELAY_ROLE_RIGHTS: Readonly<Record<RelayRoleName, readonly RelayRight[]>> = {
  'Azure Relay Listener': ['Listen'],
  'Azure Relay Sender': ['Send'],
  'Azure Relay Owner': ['Listen', 'Send', 'Manage'],
};

// Kept beside the registry rather than in it: Entra trust is a sandbox-wide setting, not namespace state.
const settingsByRegistry = new WeakMap<NamespaceRegistry, EntraAuthSettings>();

/** Makes the relay serving `registry` accept bearer tokens from `settings.trust` (and optionally refuse SAS). */
export function trustEntraIssuer(registry: NamespaceRegistry, settings: EntraAuthSettings): void {
  settingsByRegistry.set(registry, settings);
}

/** True when SAS must be refused for `registry` (disableLocalAuth). */
export function localAuthDisabled(registry: NamespaceRegistry): boolean {
  return settingsByRegistry.get(registry)?.disableLocalAuth === true;
}

/** True for a bearer token: `Bearer <jwt>` or a bare JWT (what Microsoft's SDKs put in ServiceBusAuthorization). */
export function isBearerToken(token: string): boolean {
  return /^Bearer\s/i.test(token) || looksLikeJwt(token);
}

/**
 * Checks an Entra ID access token the way the service documents it: 401 when it cannot be trusted (malformed,
 * bad signature, other issuer, other audience, expired or not yet valid), 403 when it is valid but no role
 * assignment of the principal grants the right on this hybrid connection (or, entity undefined, the namespace).
 */
export function authorizeBearer(
  registry: NamespaceRegistry,
  token: string,
  request: AuthorizeRequest,
): AuthorizeResult {
  const settings = settingsByRegistry.get(registry);
  if (!settings)
    return deny(401, 'InvalidToken: this namespace does not trust any Microsoft Entra ID issuer');
  const raw = token.replace(/^Bearer\s+/i, '').trim();
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(raw);
  } catch (err) {
    return deny(401, `MalformedToken: ${(err as Error).message}`);
  }
  if (!verifyRs256Signature(jwt, settings.trust.publicKey))
    return deny(401, 'InvalidSignature: the token is not signed by a trusted Microsoft Entra ID key');
  const { iss, aud, exp, nbf, oid } = jwt.claims;
  if (iss !== settings.trust.issuer)
    return deny(401, `InvalidIssuer: the token issuer "${String(iss)}" is not trusted`);
  if (typeof aud !== 'string' || !settings.trust.audiences.includes(aud))
    return deny(
      401,
      `InvalidAudience: the token audience "${String(aud)}" is not ${settings.trust.audiences[0]}`,
    );
  if (typeof exp !== 'number') return deny(401, 'MalformedToken: the token has no exp claim');
  const nowMs = request.nowMs ?? Date.now();
  const skewMs = settings.clockSkewMs ?? 0;
  if (exp * 1000 + skewMs <= nowMs)
    return deny(401, `ExpiredToken: the token expired at ${new Date(exp * 1000).toISOString()}`);
  if (typeof nbf === 'number' && nbf * 1000 - skewMs > nowMs)
    return deny(401, `InvalidToken: the token is not valid before ${new Date(nbf * 1000).toISOString()}`);

  const rights = rightsFromRoles(jwt.claims.roles, request.entity);
  const principal = typeof oid === 'string' ? oid : 'unknown';
  if (!rights.includes(request.right) && !rights.includes('Manage'))
    return deny(
      403,
      `Unauthorized: principal ${principal} has no role assignment granting ${request.right} on ${
        request.entity === undefined ? 'the namespace' : `hybrid connection "${request.entity}"`
      }`,
    );
  return { ok: true, ruleName: `entra:${principal}`, rights, expiresAtMs: exp * 1000 };
}

/**
 * Rights on `entity` from a `roles` claim: each entry is a built-in role name, alone (namespace scope) or as
 * `<role>@<hybrid connection>` (entity scope). A namespace-level request only counts namespace-scope roles.
 */
export function rightsFromRoles(roles: unknown, entity: string | undefined): RelayRight[] {
  if (!Array.isArray(roles)) return [];
  const rights = new Set<RelayRight>();
  for (const entry of roles) {
    if (typeof entry !== 'string') continue;
    const at = entry.indexOf('@');
    const role = (at < 0 ? entry : entry.slice(0, at)) as RelayRoleName;
    const scope = at < 0 ? undefined : entry.slice(at + 1);
    if (scope !== undefined && (entity === undefined || scope.toLowerCase() !== entity.toLowerCase()))
      continue;
    for (const right of RELAY_ROLE_RIGHTS[role] ?? []) rights.add(right);
  }
  return [...rights];
}

function deny(status: 401 | 403, reason: string): AuthorizeResult {
  return { ok: false, status, reason };
}
