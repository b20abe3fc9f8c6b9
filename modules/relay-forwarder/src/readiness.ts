// Readiness of a forwarder, for /readyz and for its reported properties: a configuration is applied and every
// configured hybrid connection has at least one control channel online at the relay.
import { ModuleReadiness } from '../../common/src/health/module-readiness';
import { NOT_READY } from '../../common/src/health/readiness';
import type { Forwarder } from './forwarder';

/**
 * Readiness of one forwarder. Not ready before the first configuration, while any configured hybrid connection has
 * no listener online (`listeners_offline`, naming them with their last error code), and while shutting down.
 * `reasons()` is the accessor for reported properties; `onChange` says when to report again.
 */
export class ForwarderReadiness extends ModuleReadiness<Forwarder> {
  /** Follows `forwarder` from now on (its current state is taken at once); returns the detach function. */
  override attach(forwarder: Forwarder): () => void {
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
