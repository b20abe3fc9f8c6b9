import {
  createSasToken,
  parseSasToken,
  relayResourceUri,
  resourceCovers,
} from '../../../modules/common/src/hc/sas';
import type { RuleName } from './names';

/** How long tokens live and when they are rewritten. */
export interface TokenPolicy {
  readonly lifetimeMs: number;
  /** Rewrite once less than this much lifetime remains: the headroom a controller outage can use up. */
  readonly renewMarginMs: number;
}

/** Which entity and rule a token must be for. */
export interface TokenScope {
  readonly namespaceHost: string;
  readonly hybridConnection: string;
  readonly rule: RuleName;
  /** The namespace's name when several are configured (its keys are recorded under it). */
  readonly namespace?: string;
}

// A token that outlives a freshly minted one by more than this was minted under a longer lifetime setting.
const CLOCK_SKEW_MS = 60_000;

/**
 * True when `token` may stay in a document: signed by the expected rule for exactly this hybrid connection, and
 * neither due for renewal nor longer-lived than the policy allows (so shortening the lifetime takes effect).
 */
export function tokenIsCurrent(
  token: unknown,
  scope: TokenScope,
  policy: TokenPolicy,
  nowMs: number,
): boolean {
  if (typeof token !== 'string') return false;
  let fields;
  try {
    fields = parseSasToken(token);
  } catch {
    return false;
  }
  if (fields.keyName !== scope.rule) return false;
  const resource = relayResourceUri(scope.namespaceHost, scope.hybridConnection);
  if (!resourceCovers(resource, fields.resource) || !resourceCovers(fields.resource, resource)) return false;
  const remainingMs = fields.expiresAtSec * 1000 - nowMs;
  return remainingMs > policy.renewMarginMs && remainingMs <= policy.lifetimeMs + CLOCK_SKEW_MS;
}

/** When a token becomes due for renewal (ms since the epoch); undefined for a token that does not parse. */
export function tokenRenewalDueAtMs(token: unknown, policy: TokenPolicy): number | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    return parseSasToken(token).expiresAtSec * 1000 - policy.renewMarginMs;
  } catch {
    return undefined;
  }
}

/** True while a token has not expired (a stale token is still better than none while ARM is unreachable). */
export function tokenNotExpired(token: unknown, nowMs: number): boolean {
  if (typeof token !== 'string') return false;
  try {
    return parseSasToken(token).expiresAtSec * 1000 > nowMs;
  } catch {
    return false;
  }
}

/** Mints a SAS token for one hybrid connection with the rule's key (pure: the clock is an argument). */
export function mintToken(scope: TokenScope, key: string, policy: TokenPolicy, nowMs: number): string {
  return createSasToken({
    resource: relayResourceUri(scope.namespaceHost, scope.hybridConnection),
    keyName: scope.rule,
    key,
    lifetimeMs: policy.lifetimeMs,
    nowMs,
  });
}
