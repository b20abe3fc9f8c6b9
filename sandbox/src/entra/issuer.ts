import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { signRs256Jwt } from './jwt';

/** The audience Azure Relay tokens are issued for (`https://relay.azure.net/.default` as a scope). */
export const RELAY_AUDIENCE = 'https://relay.azure.net';

/** Azure built-in roles for Relay data-plane access. */
export type RelayRoleName = 'Azure Relay Listener' | 'Azure Relay Sender' | 'Azure Relay Owner';

/** One role assignment: a built-in role on the namespace (no `entity`) or on one hybrid connection. */
export interface SandboxRoleAssignment {
  readonly role: RelayRoleName;
  /** Hybrid connection name; absent means the whole namespace. */
  readonly entity?: string;
}

/** A managed identity the sandbox issuer can mint tokens for. */
export interface SandboxIdentity {
  /** Client (application) id: what `ManagedIdentityCredential({ clientId })` asks for. */
  readonly clientId: string;
  /** Object (principal) id, written to `oid`/`sub`; defaults to a random UUID. */
  readonly objectId?: string;
  readonly roles: readonly SandboxRoleAssignment[];
}

/** Options of createSandboxEntraIssuer. */
export interface SandboxEntraIssuerOptions {
  /** Tenant id in `tid` and the issuer URL; default a fixed sandbox GUID. */
  readonly tenantId?: string;
  /** Lifetime of minted tokens; default 1 h (Entra access tokens live 60–90 min; managed identity ones longer). */
  readonly tokenLifetimeMs?: number;
  /** Identities known at start; more with `addIdentity`. The first one also answers for the system-assigned identity. */
  readonly identities?: readonly SandboxIdentity[];
}

/** What a verifier needs to trust this issuer's tokens (no private key). */
export interface SandboxEntraTrust {
  readonly issuer: string;
  readonly publicKey: KeyObject;
  /** Audiences accepted for the relay: `https://relay.azure.net` with and without the trailing slash. */
  readonly audiences: readonly string[];
}

/** Options for one mint call (tests use them to make bad tokens on purpose). */
export interface MintOptions {
  readonly audience?: string;
  readonly lifetimeMs?: number;
  readonly nowMs?: number;
  /** Overrides the identity's roles claim. */
  readonly roles?: readonly string[];
}

/** A minted token as the identity endpoint returns it. */
export interface MintedToken {
  readonly token: string;
  readonly expiresOnSec: number;
}

/** The sandbox's stand-in for a Microsoft Entra tenant: an RS256 key pair and the identities it vouches for. */
export interface SandboxEntraIssuer {
  readonly tenantId: string;
  readonly issuer: string;
  readonly trust: SandboxEntraTrust;
  /** The identity with `clientId`, or (clientId undefined) the system-assigned one. */
  identity(clientId?: string): SandboxIdentity | undefined;
  addIdentity(identity: SandboxIdentity): void;
  /** A signed access token for `identity` (its roles in the `roles` claim, see rolesClaim). */
  mint(identity: SandboxIdentity, options?: MintOptions): MintedToken;
}

/** The `roles` claim value for assignments: `"<role>"` for the namespace, `"<role>@<hybrid connection>"` for one entity. */
export function rolesClaim(assignments: readonly SandboxRoleAssignment[]): string[] {
  return assignments.map((a) => (a.entity === undefined ? a.role : `${a.role}@${a.entity}`));
}

const DEFAULT_TENANT = '00000000-0000-4000-8000-00000000e1d0';
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

/**
 * Creates an issuer. Real Entra ID puts no relay role in the token (the service looks the caller's `oid` up in
 * Azure RBAC); the sandbox has no RBAC store, so the assignments travel in the signed `roles` claim instead.
 */
export function createSandboxEntraIssuer(options: SandboxEntraIssuerOptions = {}): SandboxEntraIssuer {
  const tenantId = options.tenantId ?? DEFAULT_TENANT;
  const issuer = `https://sts.sandbox.hybrid-relay-fleet.local/${tenantId}/`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const identities = new Map<string, SandboxIdentity>();
  let systemAssigned: SandboxIdentity | undefined;
  const add = (identity: SandboxIdentity): void => {
    const withOid = { ...identity, objectId: identity.objectId ?? randomUUID() };
    identities.set(identity.clientId.toLowerCase(), withOid);
    systemAssigned ??= withOid;
  };
  for (const identity of options.identities ?? []) add(identity);

  return {
    tenantId,
    issuer,
    trust: { issuer, publicKey, audiences: [RELAY_AUDIENCE, `${RELAY_AUDIENCE}/`] },
    identity: (clientId) =>
      clientId === undefined ? systemAssigned : identities.get(clientId.toLowerCase()),
    addIdentity: add,
    mint(identity, mint = {}) {
      const nowSec = Math.floor((mint.nowMs ?? Date.now()) / 1000);
      const lifetimeSec = Math.max(
        1,
        Math.round((mint.lifetimeMs ?? options.tokenLifetimeMs ?? DEFAULT_LIFETIME_MS) / 1000),
      );
      const expiresOnSec = nowSec + lifetimeSec;
      const claims = {
        aud: mint.audience ?? RELAY_AUDIENCE,
        iss: issuer,
        iat: nowSec,
        nbf: nowSec - 300,
        exp: expiresOnSec,
        appid: identity.clientId,
        oid: identity.objectId,
        sub: identity.objectId,
        tid: tenantId,
        idtyp: 'app',
        roles: mint.roles ?? rolesClaim(identity.roles),
        uti: randomUUID(),
      };
      return { token: signRs256Jwt(claims, privateKey, kid), expiresOnSec };
    },
  };
}
