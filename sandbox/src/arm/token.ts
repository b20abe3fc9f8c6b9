import { createHmac, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { verifyRs256Signature } from '../entra/jwt';
import { ArmError } from './errors';

/** Audiences ARM accepts for a management token (the same list Azure names in its audience error). */
export const ARM_AUDIENCES: readonly string[] = [
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
  'https://management.azure.com/',
  'https://management.azure.com',
];

/** Issuer written into sandbox tokens. */
export const SANDBOX_TOKEN_ISSUER = 'https://sandbox.hybrid-relay-fleet.local/';

/** Claims of a sandbox management token (a subset of an Entra ID access token's claims). */
export interface ArmTokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly sub: string;
  readonly oid: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

/** Options for mintArmToken. */
export interface MintArmTokenOptions {
  /** The shared secret the sandbox verifies signatures with. */
  readonly secret: string;
  /** Token audience: the resource part of the scope the SDK asked for. */
  readonly audience: string;
  readonly lifetimeMs: number;
  readonly subject?: string;
  readonly nowMs?: number;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const sign = (secret: string, input: string): Buffer => createHmac('sha256', secret).update(input).digest();

/**
 * Mints a JWT (HS256) for the sandbox ARM API. Real ARM tokens are RS256 tokens from Entra ID; the
 * sandbox has no identity provider, so a shared secret stands in for the tenant's signing keys.
 */
export function mintArmToken(options: MintArmTokenOptions): { token: string; expiresOnTimestamp: number } {
  const nowSec = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const exp = nowSec + Math.max(1, Math.floor(options.lifetimeMs / 1000));
  const subject = options.subject ?? 'sandbox-controller';
  const claims: ArmTokenClaims = {
    aud: options.audience,
    iss: SANDBOX_TOKEN_ISSUER,
    sub: subject,
    oid: subject,
    iat: nowSec,
    nbf: nowSec - 300,
    exp,
  };
  const head = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'sandbox' }))}.${base64url(
    JSON.stringify({ ...claims, jti: randomUUID() }),
  )}`;
  return { token: `${head}.${base64url(sign(options.secret, head))}`, expiresOnTimestamp: exp * 1000 };
}

/** An Entra ID issuer ARM trusts: RS256 tokens it signs are accepted like the shared-secret ones. */
export interface ArmEntraTrust {
  readonly issuer: string;
  readonly publicKey: KeyObject;
}

/** Options for verifyArmToken. */
export interface VerifyArmTokenOptions {
  readonly secret: string;
  /** The sandbox Entra ID issuer (its managed identity endpoint's tokens: what DefaultAzureCredential gets). */
  readonly entra?: ArmEntraTrust;
  /** Accepted audiences besides ARM's own (the sandbox's endpoint). */
  readonly audiences: readonly string[];
  readonly nowMs?: number;
}

/**
 * Checks an `Authorization` header the way ARM does and returns the token's claims, or throws the 401
 * ArmError ARM would answer with (missing header, malformed or badly signed token, expired, wrong audience).
 */
export function verifyArmToken(header: string | undefined, options: VerifyArmTokenOptions): ArmTokenClaims {
  if (!header)
    throw unauthorized(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
    );
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m) {
    throw unauthorized(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  }
  const parts = (m[1] ?? '').split('.');
  if (parts.length !== 3) throw invalidToken();
  const [head64, body64, sig64] = parts as [string, string, string];
  let jwtHeader: Record<string, unknown>;
  let claims: Partial<ArmTokenClaims>;
  try {
    jwtHeader = JSON.parse(Buffer.from(head64, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(body64, 'base64url').toString('utf8')) as Partial<ArmTokenClaims>;
  } catch {
    throw invalidToken();
  }
  const given = Buffer.from(sig64, 'base64url');
  if (jwtHeader.alg === 'RS256' && options.entra) {
    // As ARM: a token of the trusted tenant, checked with its signing key and issuer (alg fixed by the branch).
    const signed = verifyRs256Signature(
      { header: jwtHeader, claims, signedInput: `${head64}.${body64}`, signature: given },
      options.entra.publicKey,
    );
    if (!signed || (claims as { iss?: unknown }).iss !== options.entra.issuer) throw invalidToken();
  } else {
    const expected = sign(options.secret, `${head64}.${body64}`);
    if (jwtHeader.alg !== 'HS256' || given.length !== expected.length || !timingSafeEqual(given, expected))
      throw invalidToken();
  }
  if (typeof claims.exp !== 'number' || typeof claims.aud !== 'string') throw invalidToken();
  const nowSec = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (claims.exp <= nowSec) {
    throw unauthorized(
      'ExpiredAuthenticationToken',
      `The access token expiry UTC time '${new Date(claims.exp * 1000).toISOString()}' is earlier than current UTC time '${new Date(nowSec * 1000).toISOString()}'.`,
    );
  }
  if (typeof claims.nbf === 'number' && claims.nbf > nowSec) throw invalidToken();
  const allowed = [...ARM_AUDIENCES, ...options.audiences.flatMap((a) => [a, a.replace(/\/+$/, '')])];
  if (!allowed.includes(claims.aud)) {
    throw unauthorized(
      'InvalidAuthenticationTokenAudience',
      `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences ${allowed.map((a) => `'${a}'`).join(',')}.`,
    );
  }
  return claims as ArmTokenClaims;
}

/** The audience for a token requested with `scope` (`{resource}/.default` → `{resource}`). */
export function audienceOfScope(scope: string): string {
  return scope.replace(/\/?\.default$/, '') || scope;
}

function invalidToken(): ArmError {
  return unauthorized('InvalidAuthenticationToken', 'The access token is invalid.');
}

function unauthorized(
  code:
    | 'AuthenticationFailed'
    | 'InvalidAuthenticationToken'
    | 'ExpiredAuthenticationToken'
    | 'InvalidAuthenticationTokenAudience',
  message: string,
): ArmError {
  return new ArmError(401, code, message);
}
