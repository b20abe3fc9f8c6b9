import {
  createSasToken,
  parseSasToken as parseSasTokenUncached,
  relayResourceUri,
  resourceCovers,
  type SasTokenFields,
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

// Every reconcile checks each of the fleet's tokens three times (rules needed, token kept, next renewal): 60,000
// parses at 10,000 locations, ~7 % of a planning pass. Tokens change only when renewed, so the parsed fields
// (or the refusal) are kept by token; the map is emptied past a bound so renewed tokens do not pile up.
const parsed = new Map<string, SasTokenFields | Error>();
const PARSED_MAX = 100_000;

function parseSasToken(token: string): SasTokenFields {
  let fields = parsed.get(token);
  if (fields === undefined) {
    try {
      fields = parseSasTokenUncached(token);
    } catch (err) {
      fields = err instanceof Error ? err : new Error(String(err));
    }
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(token, fields);
  }
  if (fields instanceof Error) throw fields;
  return fields;
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
