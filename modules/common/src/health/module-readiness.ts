import { NOT_READY, ReadinessTracker, type NotReadyReason } from './readiness';

/**
 * What a module's readiness shares: open conditions in a ReadinessTracker (starting with "no configuration
 * applied yet"), the accessors the health server and reported properties use, shutdown and detaching. A module
 * subclass says in `attach` which of its events open or clear which conditions.
 */
export abstract class ModuleReadiness<M> {
  protected readonly tracker = new ReadinessTracker([
    { code: NOT_READY.noConfiguration, message: 'no configuration applied yet' },
  ]);
  /** Set by `attach`: removes the listeners it added (and any timer). */
  protected unsubscribe: (() => void) | undefined;

  /** The ReadinessCheck for startHealthServer. */
  readonly check = (): readonly NotReadyReason[] => this.reasons();

  /** Why the module is not ready now (empty when ready), oldest condition first. */
  reasons(): NotReadyReason[] {
    return this.tracker.reasons();
  }

  /** True when no condition is open. */
  isReady(): boolean {
    return this.tracker.isReady();
  }

  /** Calls `listener` after every change of the reasons; returns the unsubscribe function. */
  onChange(listener: (reasons: readonly NotReadyReason[]) => void): () => void {
    return this.tracker.onChange(listener);
  }

  /** Follows `module` from now on (its current state is taken at once); returns the detach function. */
  abstract attach(module: M): () => void;

  /** Marks the module as shutting down: the load balancer or probe stops counting on it while it drains. */
  shuttingDown(): void {
    this.tracker.notReady(NOT_READY.shuttingDown, 'shutting down');
  }

  /** Stops following the module. */
  close(): void {
    this.unsubscribe?.();
  }
}
