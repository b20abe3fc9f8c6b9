// Readiness of a forwarder, for /readyz and for its reported properties: a configuration is applied and every
// configured hybrid connection has at least one control channel online at the relay.
import { NOT_READY, ReadinessTracker, type NotReadyReason } from '../../common/src/health/readiness';
import type { Forwarder } from './forwarder';

/**
 * Readiness of one forwarder. Not ready before the first configuration, while any configured hybrid connection has
 * no listener online (`listeners_offline`, naming them with their last error code), and while shutting down.
 * `reasons()` is the accessor for reported properties; `onChange` says when to report again.
 */
export class ForwarderReadiness {
  private readonly tracker = new ReadinessTracker([
    { code: NOT_READY.noConfiguration, message: 'no configuration applied yet' },
  ]);
  private unsubscribe: (() => void) | undefined;

  /** The ReadinessCheck for startHealthServer. */
  readonly check = (): readonly NotReadyReason[] => this.reasons();

  /** Why the forwarder is not ready now (empty when ready), oldest condition first. */
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

  /** Follows `forwarder` from now on (its current state is taken at once); returns the detach function. */
  attach(forwarder: Forwarder): () => void {
    this.unsubscribe?.();
    const update = (): void => this.update(forwarder);
    forwarder.on('configApplied', update);
    forwarder.on('listenerState', update);
    update();
    this.unsubscribe = () => {
      forwarder.off('configApplied', update);
      forwarder.off('listenerState', update);
      this.unsubscribe = undefined;
    };
    return this.unsubscribe;
  }

  /** Marks the forwarder as shutting down. */
  shuttingDown(): void {
    this.tracker.notReady(NOT_READY.shuttingDown, 'shutting down');
  }

  /** Stops following the forwarder. */
  close(): void {
    this.unsubscribe?.();
  }

  private update(forwarder: Forwarder): void {
    if (!forwarder.config) return;
    this.tracker.ready(NOT_READY.noConfiguration);
    const offline = Object.values(forwarder.state().hybridConnections)
      .filter((hc) => hc.onlineListeners === 0)
      .map((hc) => (hc.lastError ? `${hc.name} (${hc.lastError.code})` : hc.name))
      .sort();
    if (offline.length === 0) this.tracker.ready(NOT_READY.listenersOffline);
    else this.tracker.notReady(NOT_READY.listenersOffline, `no listener online for ${offline.join(', ')}`);
  }
}

/** Creates readiness for `forwarder` and attaches it. */
export function readinessFor(forwarder: Forwarder): ForwarderReadiness {
  const readiness = new ForwarderReadiness();
  readiness.attach(forwarder);
  return readiness;
}
