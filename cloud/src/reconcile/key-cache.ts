/**
 * Rule keys read with listKeys, kept in memory for a while so renewing many tokens does not cost one ARM
 * call each. Only a cache: losing it (a restart) costs calls, never correctness. Entries expire so a rotated
 * key is picked up within `maxAgeMs`.
 */
export class KeyCache {
  private readonly entries = new Map<string, { key: string; fetchedAtMs: number }>();

  constructor(private readonly maxAgeMs: number) {}

  /** Keys younger than maxAgeMs at `nowMs`, by key reference; older ones are dropped. */
  fresh(nowMs: number): Map<string, string> {
    const out = new Map<string, string>();
    for (const [ref, e] of this.entries) {
      if (nowMs - e.fetchedAtMs < this.maxAgeMs) out.set(ref, e.key);
      else this.entries.delete(ref);
    }
    return out;
  }

  set(ref: string, key: string, nowMs: number): void {
    this.entries.set(ref, { key, fetchedAtMs: nowMs });
  }

  /** Forgets every key of a hybrid connection (it was deleted). */
  forgetHybridConnection(name: string): void {
    for (const ref of [...this.entries.keys()]) if (ref.startsWith(`${name}/`)) this.entries.delete(ref);
  }
}
