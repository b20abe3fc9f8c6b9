/** What the listener registry needs from a control channel. */
export interface RegisteredListener {
  readonly id: string;
  readonly isOpen: boolean;
}

/** The documented limit: "The service allows up to 25 concurrent listeners for one Hybrid Connection." */
export const MAX_LISTENERS_PER_HYBRID_CONNECTION = 25;

/**
 * Open listener control channels per hybrid connection. Connections are spread over them "in random
 * order; fair distribution is attempted with best effort": here, a uniform random pick.
 */
export class ListenerRegistry<T extends RegisteredListener> {
  private readonly byPath = new Map<string, Set<T>>();

  constructor(
    readonly maxPerPath: number = MAX_LISTENERS_PER_HYBRID_CONNECTION,
    private readonly random: () => number = Math.random,
  ) {}

  /** Open listeners on a hybrid connection (name in any case). */
  count(path: string): number {
    return this.byPath.get(path.toLowerCase())?.size ?? 0;
  }

  /** True when one more listener would exceed the limit. */
  isFull(path: string): boolean {
    return this.count(path) >= this.maxPerPath;
  }

  /** Registers a listener; false (and nothing registered) when the path is full. */
  add(path: string, listener: T): boolean {
    const key = path.toLowerCase();
    const set = this.byPath.get(key) ?? new Set<T>();
    if (set.size >= this.maxPerPath) return false;
    set.add(listener);
    this.byPath.set(key, set);
    return true;
  }

  /** Unregisters a listener (no-op when absent). */
  remove(path: string, listener: T): void {
    const key = path.toLowerCase();
    const set = this.byPath.get(key);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.byPath.delete(key);
  }

  /** One open listener chosen uniformly at random, or undefined when none is open. */
  pick(path: string): T | undefined {
    const open = this.list(path).filter((l) => l.isOpen);
    if (open.length === 0) return undefined;
    return open[Math.min(open.length - 1, Math.floor(this.random() * open.length))];
  }

  /** Listeners of one path, or of every path when `path` is undefined. */
  list(path?: string): T[] {
    if (path !== undefined) return [...(this.byPath.get(path.toLowerCase()) ?? [])];
    return [...this.byPath.values()].flatMap((set) => [...set]);
  }

  /** Listener counts by (lower-case) path. */
  countsByPath(): Record<string, number> {
    return Object.fromEntries([...this.byPath].map(([path, set]) => [path, set.size]));
  }
}
