import { isJsonObject, objectAt } from '../model/json';
import type { LocationSpec, PreviousStatus } from '../model/location';
import { hybridConnectionName, isManagedName, isOwnedHybridConnection } from '../model/names';
import type { Observed, ObservedHybridConnection, ObservedModule } from '../model/observed';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings } from '../settings';

/** A namespace as placement sees it: its name, data-plane host and limits. */
export interface PlacementNamespace {
  /** ARM name; '' for the one unnamed namespace of a controller configured without a list. */
  readonly name: string;
  readonly host: string;
  readonly maxHybridConnections: number;
  readonly maxConnections: number;
}

/** Where one location's hybrid connection lives. */
export interface NamespacePlace {
  readonly namespace: string;
  readonly host: string;
  /** The hybrid connection exists there already. */
  readonly exists: boolean;
}

/** One namespace's use after placement (for the log, the result and the bench). */
export interface NamespaceUse {
  readonly name: string;
  readonly host: string;
  /** Hybrid connections in it, anyone's, plus those placement has just put there and not yet created. */
  readonly hybridConnections: number;
  readonly maxHybridConnections: number;
  /** Locations of this fleet placed in it. */
  readonly locations: number;
  /** Connections its locations may draw: listener channels plus each route's budget. */
  readonly connectionBudget: number;
  readonly maxConnections: number;
}

/** Placement of every location's hybrid connection in one namespace. */
export interface NamespacePlacement {
  readonly namespaces: readonly PlacementNamespace[];
  /** By location id; a location missing here was refused (its problem is in `problems`). */
  readonly places: ReadonlyMap<string, NamespacePlace>;
  readonly problems: ReadonlyMap<string, readonly LocationProblem[]>;
  readonly use: readonly NamespaceUse[];
  /** Hybrid connections this controller owns, by hcKey(namespace, name). */
  readonly owned: ReadonlyMap<string, ObservedHybridConnection>;
  /** Location hybrid connection names held in the location's namespace by someone else (never touched). */
  readonly foreign: ReadonlySet<string>;
}

/** What placement reads (a slice of the fleet view). */
export interface PlacementInput {
  readonly locations: ReadonlyMap<string, LocationSpec>;
  readonly replicas: ReadonlyMap<string, readonly string[]>;
  readonly previous: ReadonlyMap<string, PreviousStatus>;
  readonly forwarders: ReadonlyMap<string, ObservedModule>;
}

/** Identifies a hybrid connection across namespaces. */
export function hcKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name.toLowerCase()}`;
}

/** The configured namespaces with their hosts (settings order); one unnamed namespace without a list. */
export function placementNamespaces(observed: Observed, settings: ControllerSettings): PlacementNamespace[] {
  if (!settings.namespaces) {
    return [
      {
        name: '',
        host: observed.namespaceHost,
        maxHybridConnections: Number.POSITIVE_INFINITY,
        maxConnections: Number.POSITIVE_INFINITY,
      },
    ];
  }
  return settings.namespaces.map((ns, i) => ({
    ...ns,
    host:
      observed.namespaceHosts?.get(ns.name) ??
      (i === 0 ? observed.namespaceHost : `${ns.name}.servicebus.windows.net`),
  }));
}

/** Connections a location may draw: each forwarder's listener channels, and each service's route budget. */
export function locationConnectionBudget(
  settings: ControllerSettings,
  spec: LocationSpec,
  forwarderDevices: number,
): number {
  return (
    forwarderDevices * (settings.forwarderListeners ?? 2) +
    spec.services.length * settings.routeConnectionBudget
  );
}

/**
 * Places each location's hybrid connection in one namespace. A location stays where it is: where its hybrid
 * connection exists (the status tag's namespace wins if it exists in two), else where its status tag or its
 * forwarder's entry says it was, so neither a lost tag nor a deleted hybrid connection moves it. Newcomers go,
 * in location id order, to the namespace that stays least full — the larger of its hybrid-connection share and
 * its connection-budget share — and never past either limit; when no namespace has room the location is refused
 * with NAMESPACE_CAPACITY and gets nothing until one has.
 */
export function placeNamespaces(
  input: PlacementInput,
  observed: Observed,
  settings: ControllerSettings,
): NamespacePlacement {
  const namespaces = placementNamespaces(observed, settings);
  const first = namespaces[0]!.name;
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  const byHost = new Map(namespaces.map((n) => [n.host.toLowerCase(), n.name]));
  const existing = new Set<string>();
  const owned = new Map<string, ObservedHybridConnection>();
  const foreignIn = new Set<string>();
  const count = new Map(namespaces.map((n) => [n.name, 0]));
  for (const hc of observed.hybridConnections) {
    const ns = hc.namespace ?? first;
    if (!byName.has(ns)) continue;
    const key = hcKey(ns, hc.name);
    existing.add(key);
    count.set(ns, count.get(ns)! + 1);
    if (isOwnedHybridConnection(settings, hc.name, hc.userMetadata)) owned.set(key, hc);
    else if (isManagedName(settings, hc.name)) foreignIn.add(key);
  }
  const budget = new Map(namespaces.map((n) => [n.name, 0]));
  const located = new Map(namespaces.map((n) => [n.name, 0]));
  const places = new Map<string, NamespacePlace>();
  const problems = new Map<string, LocationProblem[]>();
  const foreign = new Set<string>();
  const draw = (id: string, spec: LocationSpec) =>
    locationConnectionBudget(settings, spec, 1 + (input.replicas.get(id)?.length ?? 0));
  const put = (id: string, spec: LocationSpec, ns: string) => {
    const name = hybridConnectionName(settings, id);
    const exists = existing.has(hcKey(ns, name));
    if (!exists) count.set(ns, count.get(ns)! + 1);
    budget.set(ns, budget.get(ns)! + draw(id, spec));
    located.set(ns, located.get(ns)! + 1);
    if (foreignIn.has(hcKey(ns, name))) foreign.add(name);
    places.set(id, { namespace: ns, host: byName.get(ns)!.host, exists });
  };

  // Established locations first (whatever the limits say now: nothing placed ever moves), then newcomers.
  const newcomers: [string, LocationSpec][] = [];
  for (const [id, spec] of input.locations) {
    const name = hybridConnectionName(settings, id);
    // Only our own hybrid connection pins a location; someone else's of that name is avoided below.
    const holding = namespaces.filter((n) => owned.has(hcKey(n.name, name))).map((n) => n.name);
    // The record is read only when the hybrid connection does not settle it (absent, or in two namespaces).
    const recorded =
      holding.length === 1 ? undefined : recordedNamespace(input, spec, id, name, byName, byHost);
    const ns =
      holding.length > 0 ? (recorded && holding.includes(recorded) ? recorded : holding[0]!) : recorded;
    if (ns !== undefined) put(id, spec, ns);
    else newcomers.push([id, spec]);
  }
  for (const [id, spec] of newcomers) {
    const name = hybridConnectionName(settings, id);
    const need = draw(id, spec);
    let best: { ns: string; fill: number } | undefined;
    for (const n of namespaces) {
      const hcs = count.get(n.name)! + 1;
      const conns = budget.get(n.name)! + need;
      if (hcs > n.maxHybridConnections || conns > n.maxConnections) continue;
      // A namespace where someone else holds the name is a last resort: the location could not be served there.
      const fill =
        Math.max(hcs / n.maxHybridConnections, conns / n.maxConnections) +
        (foreignIn.has(hcKey(n.name, name)) ? 1 : 0);
      if (!best || fill < best.fill) best = { ns: n.name, fill };
    }
    if (best) {
      put(id, spec, best.ns);
      continue;
    }
    problems.set(id, [
      {
        code: 'NAMESPACE_CAPACITY',
        message:
          `no Relay namespace has room for this location (${need} connections, 1 hybrid connection): ` +
          namespaces
            .map(
              (n) =>
                `${n.name || 'the namespace'} ${count.get(n.name)}/${n.maxHybridConnections} hybrid connections, ` +
                `${budget.get(n.name)}/${n.maxConnections} connections`,
            )
            .join('; ') +
          '; add a namespace',
        severity: 'error',
      },
    ]);
  }
  const use = namespaces.map((n) => ({
    name: n.name,
    host: n.host,
    hybridConnections: count.get(n.name)!,
    maxHybridConnections: n.maxHybridConnections,
    locations: located.get(n.name)!,
    connectionBudget: budget.get(n.name)!,
    maxConnections: n.maxConnections,
  }));
  return { namespaces, places, problems, use, owned, foreign };
}

// The namespace a location was recorded in: its status tag (primary's, else a replica's), else its forwarder's
// entry host. Only configured namespaces count.
function recordedNamespace(
  input: PlacementInput,
  spec: LocationSpec,
  id: string,
  hybridConnection: string,
  byName: ReadonlyMap<string, PlacementNamespace>,
  byHost: ReadonlyMap<string, string>,
): string | undefined {
  const devices = [spec.deviceId, ...(input.replicas.get(id) ?? [])];
  for (const deviceId of devices) {
    const prev = input.previous.get(deviceId);
    if (prev?.locationId === id && prev.namespace !== undefined && byName.has(prev.namespace))
      return prev.namespace;
  }
  for (const deviceId of devices) {
    const desired = input.forwarders.get(deviceId)?.desired ?? {};
    const entry = objectAt(desired, 'hybridConnections')[hybridConnection];
    if (!isJsonObject(entry) || typeof entry.namespace !== 'string') continue;
    const ns = byHost.get(entry.namespace.toLowerCase());
    if (ns !== undefined) return ns;
  }
  return undefined;
}

/** The `namespace` field of actions, token scopes and key refs for a place: none for the one unnamed namespace. */
export function namespaceField(place: NamespacePlace): { namespace?: string } {
  return place.namespace === '' ? {} : { namespace: place.namespace };
}
