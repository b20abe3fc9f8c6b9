import { isJsonObject, type JsonObject } from '../model/json';
import { RELAY_TAG, STATUS_TAG } from '../model/location';
import { SNI_ROUTE_NAME } from '../model/sni-names';
import {
  readConfig,
  readForwarderHybridConnections,
  readGatewayConnections,
  readGatewayRoutes,
  readModuleInfo,
  type ForwarderHybridConnectionReport,
  type GatewayRouteReport,
  type Reason,
} from './reported';
import type { FleetReading, ModuleRow } from './source';
import type {
  FleetSnapshot,
  GatewayView,
  ListenerState,
  LocationView,
  RefusedConfigView,
  ReplicaView,
  RouteCounterSample,
  ServiceRouteView,
  ServiceView,
} from './view-types';

/** Module ids to look for. */
export interface SnapshotOptions {
  readonly forwarderModuleId: string;
  readonly gatewayModuleId: string;
  /**
   * A token with less than this left is flagged: the controller's renewal margin, so a flagged token is one the
   * controller should already have replaced (it is down, or cannot reach ARM). Default: the default margin.
   */
  readonly tokenWarnBelowMs?: number;
}

/** The default renewal margin (48 h tokens renewed with 36 h left); the controller passes its own. */
export const DEFAULT_TOKEN_WARN_BELOW_MS = 36 * 3_600_000;

/** The most problems of a refused version the view carries (modules report the first 20). */
const MAX_PROBLEMS = 20;

/**
 * Joins one reading of IoT Hub into what a person looks at (pure): locations from their tags and the controller's
 * status tag (ports, hybrid connection, problems), the forwarder's listeners and token expiry, each service's
 * routes on every gateway with live connections and totals; gateways; refused configuration versions. Also the
 * routes' cumulative counters, which the history turns into per-minute figures.
 */
export function buildSnapshot(
  reading: FleetReading,
  options: SnapshotOptions,
  nowMs: number,
): { snapshot: FleetSnapshot; counters: RouteCounterSample[] } {
  const tagsOf = new Map(reading.devices.map((d) => [d.deviceId, d.tags]));
  const forwarders = new Map<string, ModuleRow>();
  // Every relay-gateway instance of a device (relay-gateway, relay-gateway-2, …): each carries a share of the routes.
  const gateways = new Map<string, ModuleRow[]>();
  for (const m of reading.modules) {
    if (m.moduleId === options.forwarderModuleId) forwarders.set(m.deviceId, m);
    else if (isGatewayInstance(options.gatewayModuleId, m.moduleId))
      gateways.set(m.deviceId, [...(gateways.get(m.deviceId) ?? []), m]);
  }
  const gatewayRows = [...gateways.values()].flat();
  const routes = gatewayRows.flatMap((g) =>
    readGatewayRoutes(g.reported).map((route) => ({
      gateway: g.deviceId,
      ...(g.moduleId !== options.gatewayModuleId && { module: g.moduleId }),
      route,
    })),
  );

  const locationDevices = new Set<string>(forwarders.keys());
  for (const d of reading.devices) if (relayTag(d.tags).role === 'location') locationDevices.add(d.deviceId);
  const forwarderViews = [...locationDevices]
    .map((deviceId) =>
      locationView(
        deviceId,
        tagsOf.get(deviceId) ?? {},
        forwarders.get(deviceId),
        routes,
        nowMs,
        options.tokenWarnBelowMs ?? DEFAULT_TOKEN_WARN_BELOW_MS,
      ),
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const locations = groupReplicas(forwarderViews, tagsOf, forwarders);

  const locationOfHc = new Map<string, string>();
  for (const l of locations) for (const hc of hybridConnectionsOf(l)) locationOfHc.set(hc, l.id);

  const gatewayDevices = new Set<string>(gateways.keys());
  for (const d of reading.devices) if (relayTag(d.tags).role === 'gateway') gatewayDevices.add(d.deviceId);
  const gatewayViews = [...gatewayDevices]
    .sort()
    .map((deviceId) =>
      gatewayView(deviceId, tagsOf.get(deviceId) ?? {}, gateways.get(deviceId) ?? [], options),
    );

  const counters: RouteCounterSample[] = [];
  for (const g of gatewayRows) {
    const epoch = readModuleInfo(g.reported).startedAt ?? '';
    for (const r of readGatewayRoutes(g.reported)) {
      const location = r.hybridConnection === undefined ? undefined : locationOfHc.get(r.hybridConnection);
      counters.push({
        key: `${g.deviceId}/${r.id}`,
        epoch,
        ...(location !== undefined && { location }),
        active: r.active,
        ...(r.counters && {
          counters: {
            bytes: r.counters.bytesFromClients + r.counters.bytesToClients,
            errors: r.counters.errors,
            connections: r.counters.accepted,
          },
        }),
      });
    }
  }

  const refusedConfigs: RefusedConfigView[] = [];
  for (const m of [...forwarders.values(), ...gatewayRows]) {
    const refused = readConfig(m.reported)?.refused;
    if (!refused) continue;
    const location = locations.find(
      (l) => l.deviceId === m.deviceId && m.moduleId === options.forwarderModuleId,
    );
    refusedConfigs.push({
      deviceId: m.deviceId,
      moduleId: m.moduleId,
      ...(location && { location: location.id }),
      ...(refused.version !== undefined && { version: refused.version }),
      ...(refused.at !== undefined && { at: refused.at }),
      problemCount: refused.problemCount,
      problems: refused.problems.slice(0, MAX_PROBLEMS),
    });
  }

  const snapshot: FleetSnapshot = {
    atMs: nowMs,
    totals: {
      locations: locations.length,
      services: locations.reduce((n, l) => n + l.services.length, 0),
      listenersOnline: forwarderViews.reduce((n, l) => n + l.listeners.online, 0),
      listeners: forwarderViews.reduce((n, l) => n + l.listeners.total, 0),
      activeConnections: gatewayViews.reduce((n, g) => n + g.connections.active, 0),
      gateways: gatewayViews.length,
      refusedConfigs: refusedConfigs.length,
      tokensExpiring: forwarderViews.filter((l) => l.tokenExpiring === true).length,
      ...errorTotals(routes.map((r) => r.route)),
    },
    tokenWarnBelowS: Math.round((options.tokenWarnBelowMs ?? DEFAULT_TOKEN_WARN_BELOW_MS) / 1000),
    locations,
    gateways: gatewayViews,
    refusedConfigs,
  };
  return { snapshot, counters };
}

/** A gateway route as reported, with the device and (past the first instance) the module that reports it. */
interface GatewayRouteRow {
  readonly gateway: string;
  readonly module?: string;
  readonly route: GatewayRouteReport;
}

// `relay-gateway` and its numbered instances `relay-gateway-2`, `relay-gateway-3`, … (the controller's shards).
function isGatewayInstance(gatewayModuleId: string, moduleId: string): boolean {
  if (moduleId === gatewayModuleId) return true;
  const rest = moduleId.startsWith(`${gatewayModuleId}-`) ? moduleId.slice(gatewayModuleId.length + 1) : '';
  return /^[1-9][0-9]*$/.test(rest);
}

interface RelayTag {
  role?: string;
  location?: string;
  pool?: string;
  services: JsonObject;
}

function relayTag(tags: JsonObject): RelayTag {
  const t = isJsonObject(tags[RELAY_TAG]) ? (tags[RELAY_TAG] as JsonObject) : {};
  return {
    ...(typeof t.role === 'string' && { role: t.role }),
    ...(typeof t.location === 'string' && { location: t.location }),
    ...(typeof t.pool === 'string' && { pool: t.pool }),
    services: isJsonObject(t.services) ? t.services : {},
  };
}

function statusTag(tags: JsonObject): JsonObject {
  return isJsonObject(tags[STATUS_TAG]) ? (tags[STATUS_TAG] as JsonObject) : {};
}

// The hybrid connections that belong to a location: the controller's, else whatever its forwarder listens on.
function hybridConnectionsOf(l: LocationView): string[] {
  return l.hybridConnection !== undefined
    ? [l.hybridConnection]
    : [...(l.forwarder?.hybridConnections ?? [])];
}

function locationView(
  deviceId: string,
  tags: JsonObject,
  forwarder: ModuleRow | undefined,
  routes: readonly GatewayRouteRow[],
  nowMs: number,
  tokenWarnBelowMs: number,
): LocationView {
  const relay = relayTag(tags);
  const status = statusTag(tags);
  const tagged = relay.role === 'location';
  const id =
    relay.location ??
    (typeof status.location === 'string' ? status.location : undefined) ??
    deviceId.toLowerCase();
  const hybridConnection = typeof status.hybridConnection === 'string' ? status.hybridConnection : undefined;
  const reportedHcs = forwarder ? readForwarderHybridConnections(forwarder.reported) : [];
  const mine =
    hybridConnection !== undefined ? reportedHcs.filter((h) => h.name === hybridConnection) : reportedHcs;
  const hcNames = hybridConnection !== undefined ? [hybridConnection] : mine.map((h) => h.name);
  // The controller's SNI route serves every name of the pool; its own target is only a placeholder (the first
  // name's), so its counters are no one location's.
  const myRoutes = routes.filter(
    (r) =>
      r.route.id !== SNI_ROUTE_NAME &&
      r.route.hybridConnection !== undefined &&
      hcNames.includes(r.route.hybridConnection),
  );
  const ports = isJsonObject(status.ports) ? status.ports : {};
  const serverNames = isJsonObject(status.names) ? status.names : {};
  const sniPort = typeof status.sniPort === 'number' ? status.sniPort : undefined;

  const names = new Set<string>([...Object.keys(relay.services), ...Object.keys(ports)]);
  for (const hc of mine) for (const s of hc.services) names.add(s.name);
  for (const r of myRoutes) if (r.route.service !== undefined) names.add(r.route.service);
  const services = [...names].sort().map((name) => ({
    ...serviceView(name, relay.services[name], ports[name], mine, myRoutes),
    ...(typeof serverNames[name] === 'string' && {
      serverName: serverNames[name],
      ...(sniPort !== undefined && { sniPort }),
    }),
  }));

  const problems: Reason[] = isJsonObject(status.problems)
    ? Object.entries(status.problems).map(([code, message]) => ({ code, message: String(message) }))
    : [];
  const expiries = mine
    .map((h) => h.tokenExpiresAt)
    .filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t)));
  const tokenExpiresAt = expiries.sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  const info = forwarder ? readModuleInfo(forwarder.reported) : {};
  const config = forwarder ? readConfig(forwarder.reported) : undefined;
  const reason = mine.find((h) => h.reason)?.reason;
  return {
    id,
    deviceId,
    tagged,
    ...((relay.pool ?? status.pool) !== undefined && { pool: String(relay.pool ?? status.pool) }),
    ...(typeof status.state === 'string' && { state: status.state }),
    problems,
    ...(hybridConnection !== undefined && { hybridConnection }),
    ...(typeof status.namespace === 'string' && { namespace: status.namespace }),
    ...(typeof status.publicHost === 'string' && { publicHost: status.publicHost }),
    listeners: {
      state: listenerState(forwarder !== undefined, mine),
      online: mine.reduce((n, h) => n + h.onlineListeners, 0),
      total: mine.reduce((n, h) => n + h.listeners, 0),
    },
    ...(tokenExpiresAt !== undefined && {
      tokenExpiresAt,
      tokenExpiresInS: Math.round((Date.parse(tokenExpiresAt) - nowMs) / 1000),
      tokenExpiring: Date.parse(tokenExpiresAt) - nowMs < tokenWarnBelowMs,
    }),
    ...(forwarder && {
      forwarder: {
        ...(forwarder.connectionState !== undefined && {
          connected: forwarder.connectionState === 'Connected',
        }),
        ...(info.version !== undefined && { version: info.version }),
        ...(config && { config }),
        hybridConnections: reportedHcs.map((h) => h.name),
        ...(reason && { reason }),
        ...sumIfAny(
          'reconnects',
          mine.map((h) => h.reconnects),
        ),
        ...sumIfAny(
          'tokenRenewals',
          mine.map((h) => h.tokenRenewals),
        ),
      },
    }),
    services,
  };
}

function serviceView(
  name: string,
  declared: unknown,
  allocatedPort: unknown,
  hcs: readonly ForwarderHybridConnectionReport[],
  routes: readonly GatewayRouteRow[],
): ServiceView {
  const reported = hcs.flatMap((h) => h.services).find((s) => s.name === name);
  const mine = routes.filter((r) => r.route.service === name);
  const routeViews: ServiceRouteView[] = mine.map(({ gateway, module, route }) => ({
    gateway,
    ...(module !== undefined && { module }),
    route: route.id,
    status: route.status,
    ...(route.port !== undefined && { port: route.port }),
    ...(route.reason && { reason: route.reason }),
    ...(route.relayFault && { relayFault: route.relayFault }),
  }));
  const withCounters = mine.map((r) => r.route.counters).filter((c) => c !== undefined);
  const target =
    isJsonObject(declared) && typeof declared.target === 'string' ? declared.target : reported?.target;
  const publicPort = typeof allocatedPort === 'number' ? allocatedPort : routeViews.find((r) => r.port)?.port;
  return {
    name,
    ...(target !== undefined && { target }),
    ...(publicPort !== undefined && { publicPort }),
    ...(reported && { forwarderStatus: reported.status }),
    routes: routeViews,
    listeningRoutes: routeViews.filter((r) => r.status === 'listening').length,
    active: mine.length > 0 ? mine.reduce((n, r) => n + r.route.active, 0) : (reported?.active ?? 0),
    ...(withCounters.length > 0 && {
      totals: {
        connections: withCounters.reduce((n, c) => n + c.accepted, 0),
        bytesFromClients: withCounters.reduce((n, c) => n + c.bytesFromClients, 0),
        bytesToClients: withCounters.reduce((n, c) => n + c.bytesToClients, 0),
        errors: withCounters.reduce((n, c) => n + c.errors, 0),
        errorsByReason: addReasons(withCounters.map((c) => c.errorsByReason)),
        startupErrors: withCounters.reduce((n, c) => n + c.startup, 0),
      },
    }),
  };
}

// Worst first: the state a person must act on wins over the healthy ones.
const SEVERITY: readonly ListenerState[] = [
  'refused',
  'connecting',
  'partial',
  'draining',
  'drained',
  'online',
];

function listenerState(
  hasForwarder: boolean,
  hcs: readonly ForwarderHybridConnectionReport[],
): ListenerState {
  if (!hasForwarder) return 'no forwarder';
  if (hcs.length === 0) return 'no report';
  const states = hcs.map((h): ListenerState =>
    h.status === 'listening' ? 'online' : (h.status as ListenerState),
  );
  return SEVERITY.find((s) => states.includes(s)) ?? 'connecting';
}

// One card per gateway device: the first instance's identity (version, configuration), every instance's routes and
// connections, connected only while every instance is.
function gatewayView(
  deviceId: string,
  tags: JsonObject,
  instances: readonly ModuleRow[],
  options: SnapshotOptions,
): GatewayView {
  const relay = relayTag(tags);
  const module = instances.find((m) => m.moduleId === options.gatewayModuleId) ?? instances[0];
  const routes = instances.flatMap((m) =>
    readGatewayRoutes(m.reported).map((r) => ({
      r,
      ...(m.moduleId !== options.gatewayModuleId && { instance: m.moduleId }),
    })),
  );
  const info = module ? readModuleInfo(module.reported) : {};
  const config = module ? readConfig(module.reported) : undefined;
  const states = instances.map((m) => m.connectionState).filter((s) => s !== undefined);
  const connections = instances.map((m) => readGatewayConnections(m.reported));
  const max = connections.map((c) => c.max).filter((m) => m !== undefined);
  return {
    deviceId,
    ...(relay.pool !== undefined && { pool: relay.pool }),
    ...(states.length > 0 && { connected: states.every((s) => s === 'Connected') }),
    ...(info.version !== undefined && { version: info.version }),
    ...(config && { config }),
    connections: {
      active: connections.reduce((n, c) => n + c.active, 0),
      ...(max.length > 0 && { max: max.reduce((a, b) => a + b, 0) }),
    },
    routes: routes.length,
    listeningRoutes: routes.filter(({ r }) => r.status === 'listening').length,
    troubledRoutes: routes
      // A listening route whose tunnels fail at the relay is in trouble too.
      .filter(({ r }) => (r.status !== 'listening' && r.status !== 'disabled') || r.relayFault !== undefined)
      .map(({ r, instance }) => ({
        gateway: deviceId,
        ...(instance !== undefined && { module: instance }),
        route: r.id,
        status: r.status,
        ...(r.port !== undefined && { port: r.port }),
        ...(r.reason && { reason: r.reason }),
        ...(r.relayFault && { relayFault: r.relayFault }),
      })),
  };
}

function addReasons(all: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const byReason of all)
    for (const [reason, n] of Object.entries(byReason)) out[reason] = (out[reason] ?? 0) + n;
  return out;
}

function errorTotals(routes: readonly GatewayRouteReport[]): {
  errorsByReason: Record<string, number>;
  startupErrors: number;
} {
  const counters = routes.map((r) => r.counters).filter((c) => c !== undefined);
  return {
    errorsByReason: addReasons(counters.map((c) => c.errorsByReason)),
    startupErrors: counters.reduce((n, c) => n + c.startup, 0),
  };
}

function sumIfAny<K extends string>(key: K, values: readonly (number | undefined)[]): { [P in K]?: number } {
  const present = values.filter((v): v is number => v !== undefined);
  return (present.length > 0 ? { [key]: present.reduce((a, b) => a + b, 0) } : {}) as { [P in K]?: number };
}

// A device whose status tag says `replicaOf` a device that is listed too becomes a line on that device's card
// instead of a location of its own: one location, several forwarders.
function groupReplicas(
  views: readonly LocationView[],
  tagsOf: ReadonlyMap<string, JsonObject>,
  forwarders: ReadonlyMap<string, ModuleRow>,
): LocationView[] {
  const listed = new Set(views.map((v) => v.deviceId));
  const replicasOf = new Map<string, ReplicaView[]>();
  const primaries: LocationView[] = [];
  for (const v of views) {
    const of = statusTag(tagsOf.get(v.deviceId) ?? {}).replicaOf;
    if (typeof of !== 'string' || !listed.has(of) || of === v.deviceId) {
      primaries.push(v);
      continue;
    }
    const connectionState = forwarders.get(v.deviceId)?.connectionState;
    replicasOf.set(of, [
      ...(replicasOf.get(of) ?? []),
      {
        deviceId: v.deviceId,
        ...(v.state !== undefined && { state: v.state }),
        ...(connectionState !== undefined && { connected: connectionState === 'Connected' }),
        listeners: v.listeners,
        ...(v.tokenExpiresAt !== undefined && { tokenExpiresAt: v.tokenExpiresAt }),
        ...(v.tokenExpiring !== undefined && { tokenExpiring: v.tokenExpiring }),
        active: forwarderActive(forwarders.get(v.deviceId), v.hybridConnection),
      },
    ]);
  }
  return primaries.map((p) => {
    const replicas = replicasOf.get(p.deviceId);
    return replicas ? { ...p, replicas } : p;
  });
}

// Tunnels a forwarder reports open on the location's hybrid connection (all of its own when none is known).
function forwarderActive(forwarder: ModuleRow | undefined, hybridConnection: string | undefined): number {
  if (!forwarder) return 0;
  return readForwarderHybridConnections(forwarder.reported)
    .filter((h) => hybridConnection === undefined || h.name === hybridConnection)
    .flatMap((h) => h.services)
    .reduce((n, s) => n + s.active, 0);
}
