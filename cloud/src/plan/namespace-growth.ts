import type { NamespaceGrowthSettings } from '../namespace-settings';

/** A namespace this controller created, as ARM lists it (found by its tags). */
export interface CreatedNamespace {
  readonly name: string;
  /** ARM's provisioningState: `Succeeded`, `Failed`, or a state of a creation still in progress. */
  readonly provisioningState: string;
}

/** What to do about namespaces after a reconcile. */
export type GrowthDecision =
  | { readonly kind: 'none' }
  /** Create `name`, or finish creating it (in progress, or failed and tried again: PUT is idempotent). */
  | { readonly kind: 'ensure'; readonly name: string; readonly why: string }
  /** Locations are refused and the controller may create no more namespaces. */
  | { readonly kind: 'atMax'; readonly message: string };

/** The name of the `ordinal`-th created namespace: `{prefix}-{ordinal}` (stable across restarts). */
export function createdNamespaceName(prefix: string, ordinal: number): string {
  return `${prefix}-${ordinal}`;
}

/**
 * Decides whether a namespace must be created: only when `refused` locations found no namespace with room
 * (NAMESPACE_CAPACITY). A creation in progress (a restarted controller finds it by its tags) is waited for, and
 * one that failed is tried again, before any other is started, so there is never more than one underway and a
 * restart never adds a second. Otherwise the next name is `{prefix}-{n}` with the lowest n not taken, while fewer
 * than `maxCount` exist.
 */
export function decideNamespaceGrowth(
  refused: number,
  created: readonly CreatedNamespace[],
  growth: NamespaceGrowthSettings | undefined,
): GrowthDecision {
  if (!growth || refused === 0) return { kind: 'none' };
  const unfinished = created.find((c) => c.provisioningState !== 'Succeeded');
  if (unfinished)
    return {
      kind: 'ensure',
      name: unfinished.name,
      why:
        unfinished.provisioningState === 'Failed'
          ? `its creation failed; trying again for ${refused} refused location(s)`
          : `its creation is in progress (${unfinished.provisioningState}); waiting for it`,
    };
  if (created.length >= growth.maxCount)
    return {
      kind: 'atMax',
      message: `${refused} location(s) refused for want of room, and this controller has created ${created.length} of at most ${growth.maxCount} namespaces: raise the maximum or add a namespace`,
    };
  const taken = new Set(created.map((c) => c.name.toLowerCase()));
  let ordinal = 1;
  while (taken.has(createdNamespaceName(growth.prefix, ordinal))) ordinal++;
  return {
    kind: 'ensure',
    name: createdNamespaceName(growth.prefix, ordinal),
    why: `${refused} location(s) found no namespace with room`,
  };
}
