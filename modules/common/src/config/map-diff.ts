/** Keys of two versions of a keyed map (a configuration's `hybridConnections`, `routes`, `services`) by fate. */
export interface MapDiff<K> {
  /** In `after` only, in its order. */
  readonly added: readonly K[];
  /** In `before` only, in its order. */
  readonly removed: readonly K[];
  /** In both with values `same` calls different, in `after`'s order. */
  readonly changed: readonly K[];
  /** In both with values `same` calls equal, in `after`'s order. */
  readonly unchanged: readonly K[];
}

/** Compares two maps key by key (pure); `same` says whether a key's two values are equal. */
export function diffMaps<K, V>(
  before: ReadonlyMap<K, V>,
  after: ReadonlyMap<K, V>,
  same: (before: V, after: V) => boolean,
): MapDiff<K> {
  const added: K[] = [];
  const changed: K[] = [];
  const unchanged: K[] = [];
  const removed = [...before.keys()].filter((key) => !after.has(key));
  for (const [key, next] of after) {
    if (!before.has(key)) added.push(key);
    else if (same(before.get(key) as V, next)) unchanged.push(key);
    else changed.push(key);
  }
  return { added, removed, changed, unchanged };
}
