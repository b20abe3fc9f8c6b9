import { sameRelayCredential } from '../../../common/src/config/credentials';
import { diffMaps } from '../../../common/src/config/map-diff';
import { sameTarget } from '../../../common/src/net/target';
import type { ForwarderConfig, HybridConnectionConfig, ServiceConfig } from './types';

/** Which services of one hybrid connection differ, by port name. */
export interface ServiceDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Any setting changed (target, limits, timeouts, enabled); applies to new connections. */
  readonly changed: readonly string[];
  /** Enabled before and disabled now (also listed in `changed`): its live tunnels drain. */
  readonly disabled: readonly string[];
}

/** How one hybrid connection present in both configurations differs. */
export interface HybridConnectionChange {
  readonly name: string;
  readonly before: HybridConnectionConfig;
  readonly after: HybridConnectionConfig;
  /** Namespace or path changed: the control channels must be opened on the new endpoint. */
  readonly endpointChanged: boolean;
  /** Same endpoint, another credential: hand it to the live control channels (renewToken), no reconnect. */
  readonly credentialChanged: boolean;
  /** Number of control channels changed. */
  readonly listenersChanged: boolean;
  /** The stream bound of multiplexed connections opened from now on changed. */
  readonly muxMaxStreamsChanged: boolean;
  readonly services: ServiceDiff;
}

/** Everything that differs between two configurations; applying it touches nothing else. */
export interface ForwarderConfigDiff {
  readonly added: readonly HybridConnectionConfig[];
  readonly removed: readonly HybridConnectionConfig[];
  readonly changed: readonly HybridConnectionChange[];
  /** Names of hybrid connections that are identical in both. */
  readonly unchanged: readonly string[];
  readonly logLevelChanged: boolean;
  readonly drainTimeoutChanged: boolean;
}

/** The configuration a forwarder runs before its first document: nothing. */
export const EMPTY_FORWARDER_CONFIG: ForwarderConfig = Object.freeze({
  drainTimeoutMs: 0,
  hybridConnections: new Map<string, HybridConnectionConfig>(),
});

/** Compares two configurations (pure). */
export function diffForwarderConfig(before: ForwarderConfig, after: ForwarderConfig): ForwarderConfigDiff {
  const [old, next] = [before.hybridConnections, after.hybridConnections];
  const keys = diffMaps(old, next, (a, b) => !isHybridConnectionChanged(diffHybridConnection(a, b)));
  const removed = keys.removed.map((name) => old.get(name) as HybridConnectionConfig);
  const added = keys.added.map((name) => next.get(name) as HybridConnectionConfig);
  const changed = keys.changed.map((name) =>
    diffHybridConnection(old.get(name) as HybridConnectionConfig, next.get(name) as HybridConnectionConfig),
  );
  const { unchanged } = keys;
  return {
    added,
    removed,
    changed,
    unchanged,
    logLevelChanged: before.logLevel !== after.logLevel,
    drainTimeoutChanged: before.drainTimeoutMs !== after.drainTimeoutMs,
  };
}

/** True when applying the diff would change nothing. */
export function isEmptyDiff(diff: ForwarderConfigDiff): boolean {
  return (
    diff.added.length === 0 &&
    diff.removed.length === 0 &&
    diff.changed.length === 0 &&
    !diff.logLevelChanged &&
    !diff.drainTimeoutChanged
  );
}

/** Compares one hybrid connection's two versions (pure). */
export function diffHybridConnection(
  before: HybridConnectionConfig,
  after: HybridConnectionConfig,
): HybridConnectionChange {
  return {
    name: after.name,
    before,
    after,
    endpointChanged:
      before.namespace.toLowerCase() !== after.namespace.toLowerCase() || before.path !== after.path,
    credentialChanged: !sameRelayCredential(before.credential, after.credential),
    listenersChanged: before.listeners !== after.listeners,
    muxMaxStreamsChanged: before.muxMaxStreams !== after.muxMaxStreams,
    services: diffServices(before.services, after.services),
  };
}

function isHybridConnectionChanged(change: HybridConnectionChange): boolean {
  const s = change.services;
  return (
    change.endpointChanged ||
    change.credentialChanged ||
    change.listenersChanged ||
    change.muxMaxStreamsChanged ||
    s.added.length + s.removed.length + s.changed.length > 0
  );
}

function diffServices(
  before: ReadonlyMap<string, ServiceConfig>,
  after: ReadonlyMap<string, ServiceConfig>,
): ServiceDiff {
  const { added, removed, changed } = diffMaps(before, after, sameService);
  // Enabled before and disabled now: its live tunnels drain.
  const disabled = changed.filter((name) => before.get(name)?.enabled === true && after.get(name)?.enabled === false);
  return { added, removed, changed, disabled };
}

/** True when two service settings are the same. */
export function sameService(a: ServiceConfig, b: ServiceConfig): boolean {
  return (
    sameTarget(a.target, b.target) &&
    a.maxConnections === b.maxConnections &&
    a.connectTimeoutMs === b.connectTimeoutMs &&
    a.idleTimeoutMs === b.idleTimeoutMs &&
    a.enabled === b.enabled &&
    a.proxyProtocol === b.proxyProtocol &&
    a.udp?.maxDatagramBytes === b.udp?.maxDatagramBytes &&
    a.udp?.flowIdleTimeoutMs === b.udp?.flowIdleTimeoutMs
  );
}
