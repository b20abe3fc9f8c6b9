import { keyRef, type Observed } from '../model/observed';
import {
  mintToken,
  tokenIsCurrent,
  tokenNotExpired,
  type TokenPolicy,
  type TokenScope,
} from '../model/tokens';
import type { ControllerSettings } from '../settings';

/** Where the token for one document entry comes from. */
export type TokenChoice =
  /** The token already written is good for a while longer. */
  | { readonly kind: 'current'; readonly token: string }
  /** A new token, minted with a known key. */
  | { readonly kind: 'minted'; readonly token: string }
  /** Due for renewal but no key is at hand (ARM failed): the written token stays until it expires. */
  | { readonly kind: 'stale'; readonly token: string }
  /** No usable token and no key. */
  | { readonly kind: 'none' };

/** The token policy from the settings. */
export function tokenPolicy(settings: ControllerSettings): TokenPolicy {
  return { lifetimeMs: settings.tokenLifetimeMs, renewMarginMs: settings.tokenRenewMarginMs };
}

/** True when the entry's token must be replaced (so its rule's key is needed). */
export function needsNewToken(
  observed: Observed,
  settings: ControllerSettings,
  scope: TokenScope,
  current: unknown,
): boolean {
  return !tokenIsCurrent(current, scope, tokenPolicy(settings), observed.nowMs);
}

/** Picks the token for an entry: keep the written one while current, else mint, else keep it while unexpired. */
export function chooseToken(
  observed: Observed,
  settings: ControllerSettings,
  scope: TokenScope,
  current: unknown,
): TokenChoice {
  const policy = tokenPolicy(settings);
  if (tokenIsCurrent(current, scope, policy, observed.nowMs))
    return { kind: 'current', token: current as string };
  const key = observed.keys.get(keyRef(scope.hybridConnection, scope.rule, scope.namespace));
  if (key !== undefined) return { kind: 'minted', token: mintToken(scope, key, policy, observed.nowMs) };
  if (tokenNotExpired(current, observed.nowMs)) return { kind: 'stale', token: current as string };
  return { kind: 'none' };
}
