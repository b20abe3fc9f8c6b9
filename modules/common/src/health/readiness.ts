/** One reason a process is not ready, with a stable `code` for probes, dashboards and reported properties. */
export interface NotReadyReason {
  readonly code: string;
  readonly message: string;
}

/** Returns why the process is not ready; an empty list means ready. */
export type ReadinessCheck = () => readonly NotReadyReason[] | Promise<readonly NotReadyReason[]>;

/** Codes the modules share, so the probe body and reported properties read the same everywhere. */
export const NOT_READY = {
  noConfiguration: 'no_configuration',
  listenersOffline: 'listeners_offline',
  relayUnreachable: 'relay_unreachable',
  shuttingDown: 'shutting_down',
} as const;

/**
 * Readiness as a set of open conditions keyed by code: a module marks a condition when it starts to hold and clears
 * it when it stops. `check` plugs straight into the health server; `onChange` feeds reported properties.
 */
export class ReadinessTracker {
  private readonly open = new Map<string, string>();
  private readonly listeners = new Set<(reasons: readonly NotReadyReason[]) => void>();

  /** Starts with the given conditions open (typically "no configuration yet"). */
  constructor(initial: readonly NotReadyReason[] = []) {
    for (const r of initial) this.open.set(r.code, r.message);
  }

  /** Opens (or rewords) the condition `code`. */
  notReady(code: string, message: string): void {
    if (this.open.get(code) === message) return;
    this.open.set(code, message);
    this.emit();
  }

  /** Clears the condition `code`; a no-op when it was not open. */
  ready(code: string): void {
    if (this.open.delete(code)) this.emit();
  }

  /** The open conditions, oldest first. */
  reasons(): NotReadyReason[] {
    return [...this.open].map(([code, message]) => ({ code, message }));
  }

  /** True when no condition is open. */
  isReady(): boolean {
    return this.open.size === 0;
  }

  /** The ReadinessCheck for startHealthServer. */
  readonly check: ReadinessCheck = () => this.reasons();

  /** Calls `listener` with the new reasons after every change; returns the unsubscribe function. */
  onChange(listener: (reasons: readonly NotReadyReason[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const reasons = this.reasons();
    for (const l of this.listeners) l(reasons);
  }
}
