import { filterMatches } from './topics';

/**
 * MQTT session state the sandbox keeps itself: the topic filters each client id subscribed to. IoT Hub keeps
 * sessions of clients that connect with clean-session 0 (the Azure SDKs do, and do not re-subscribe after a
 * reconnect), so these survive disconnects and hub restarts; clean sessions are dropped on disconnect.
 */
export class SessionStore {
  private readonly subs = new Map<string, Set<string>>();
  private readonly listeners = new Set<() => void>();

  /** Subscribes to session changes (for persistence). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Records a granted subscription. */
  add(clientKey: string, filter: string): void {
    let set = this.subs.get(clientKey);
    if (!set) this.subs.set(clientKey, (set = new Set()));
    if (!set.has(filter)) {
      set.add(filter);
      this.changed();
    }
  }

  /** Forgets one subscription. */
  remove(clientKey: string, filter: string): void {
    if (this.subs.get(clientKey)?.delete(filter)) this.changed();
  }

  /** Forgets every subscription of a client (clean session, deleted identity). */
  reset(clientKey: string): void {
    if (this.subs.delete(clientKey)) this.changed();
  }

  /** Forgets the sessions of a device and all its modules. */
  resetDevice(deviceId: string): void {
    for (const key of [...this.subs.keys()])
      if (key === deviceId || key.startsWith(`${deviceId}/`)) this.reset(key);
  }

  /** True when the client subscribed to a filter matching `topic`. */
  matches(clientKey: string, topic: string): boolean {
    const set = this.subs.get(clientKey);
    if (!set) return false;
    for (const filter of set) if (filterMatches(filter, topic)) return true;
    return false;
  }

  /** Plain data for persistence. */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [key, set] of this.subs) if (set.size > 0) out[key] = [...set];
    return out;
  }

  /** Loads persisted sessions. */
  restore(data: Record<string, readonly string[]>): void {
    this.subs.clear();
    for (const [key, filters] of Object.entries(data)) this.subs.set(key, new Set(filters));
  }
}
