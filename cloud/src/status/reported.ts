// Tolerant readers of the modules' reported properties (docs/twin-configuration.md#reported-properties). A twin is
// written by whichever module version runs, so every field is optional here and a malformed one reads as absent.
import { isJsonObject, type JsonObject, type JsonValue } from '../model/json';

/** A problem with a refused configuration: JSON pointer into the desired document and what is wrong. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** The reported `config` section: which desired version runs, and the newest one if it was refused. */
export interface ConfigReport {
  /** `waiting` (no desired yet), `applied`, `refused`, or `unknown` when the module has not said. */
  readonly status: 'waiting' | 'applied' | 'refused' | 'unknown';
  readonly version?: number;
  readonly receivedVersion?: number;
  readonly refused?: {
    readonly version?: number;
    readonly at?: string;
    readonly problemCount: number;
    readonly problems: readonly ConfigProblem[];
  };
}

/** `{ code, message }` as modules report a reason. */
export interface Reason {
  readonly code: string;
  readonly message: string;
}

/** One gateway route from reported properties. Counters are undefined when the report is compact or a summary. */
export interface GatewayRouteReport {
  readonly id: string;
  readonly status: string;
  /** The port it listens on (`boundPort` when the configured one was 0). */
  readonly port?: number;
  readonly hybridConnection?: string;
  readonly service?: string;
  readonly reason?: Reason;
  /** The latest relay-side failure of the route's tunnels, until one opens again (`{ reason, code? }`). */
  readonly relayFault?: { readonly reason: string; readonly code?: string };
  readonly active: number;
  readonly counters?: {
    readonly accepted: number;
    readonly bytesFromClients: number;
    readonly bytesToClients: number;
    /** Refused at admission + failed to open + broken after opening, less the startup failures. */
    readonly errors: number;
    /** `errors` by reason (refused, failed and broken reasons merged by name). */
    readonly errorsByReason: Readonly<Record<string, number>>;
    /** `no-listener` failures before the route's first tunnel: the location was still coming up. */
    readonly startup: number;
  };
}

/** One forwarder service from reported properties. */
export interface ForwarderServiceReport {
  readonly name: string;
  readonly status: string;
  readonly target?: string;
  readonly active: number;
}

/** One forwarder hybrid connection from reported properties. */
export interface ForwarderHybridConnectionReport {
  readonly name: string;
  readonly status: string;
  readonly onlineListeners: number;
  readonly listeners: number;
  readonly reason?: Reason;
  readonly tokenExpiresAt?: string;
  readonly reconnects?: number;
  readonly tokenRenewals?: number;
  readonly services: readonly ForwarderServiceReport[];
}

/** The common `module` section. */
export interface ModuleInfo {
  readonly version?: string;
  /** When the module process started: a change means its counters started again from zero. */
  readonly startedAt?: string;
}

/** Reads `module`. */
export function readModuleInfo(reported: JsonObject): ModuleInfo {
  const m = objectAt(reported, 'module');
  return { ...optionalString('version', m.version), ...optionalString('startedAt', m.startedAt) };
}

/** Reads `config`; undefined when the module has reported nothing yet. */
export function readConfig(reported: JsonObject): ConfigReport | undefined {
  const c = reported.config;
  if (!isJsonObject(c)) return undefined;
  const status =
    c.status === 'waiting' || c.status === 'applied' || c.status === 'refused' ? c.status : 'unknown';
  const refused = isJsonObject(c.refused) ? c.refused : undefined;
  const problems = refused && Array.isArray(refused.problems) ? refused.problems.filter(isJsonObject) : [];
  return {
    status,
    ...optionalNumber('version', c.version),
    ...optionalNumber('receivedVersion', c.receivedVersion),
    ...(refused && {
      refused: {
        ...optionalNumber('version', refused.version),
        ...optionalString('at', refused.at),
        problemCount: num(refused.problemCount) ?? problems.length,
        problems: problems.map((p) => ({ path: str(p.path) ?? '', message: str(p.message) ?? '' })),
      },
    }),
  };
}

/** Reads the gateway's `routes`, sorted by id. */
export function readGatewayRoutes(reported: JsonObject): GatewayRouteReport[] {
  return sortedEntries(objectAt(reported, 'routes')).map(([id, r]) => {
    const c = isJsonObject(r.counters) ? r.counters : undefined;
    const port = num(r.boundPort) ?? num(r.port);
    const fault = isJsonObject(r.relayFault) ? r.relayFault : undefined;
    return {
      id,
      status: str(r.status) ?? 'unknown',
      ...(port !== undefined && { port }),
      ...optionalString('hybridConnection', r.hybridConnection),
      ...optionalString('service', r.service),
      ...optionalReason(r.reason),
      ...(fault && {
        relayFault: { reason: str(fault.reason) ?? 'unknown', ...optionalString('code', fault.code) },
      }),
      active: num(c?.active) ?? num(r.active) ?? 0,
      ...(c && { counters: readRouteCounters(c) }),
    };
  });
}

function readRouteCounters(c: JsonObject): NonNullable<GatewayRouteReport['counters']> {
  const byReason: Record<string, number> = {};
  for (const group of [c.refused, c.failed, c.broken]) {
    if (!isJsonObject(group)) continue;
    for (const [reason, n] of Object.entries(group)) {
      const count = num(n);
      if (count !== undefined && count > 0) byReason[reason] = (byReason[reason] ?? 0) + count;
    }
  }
  // Startup failures are part of failed['no-listener']: take them out so user errors stand alone.
  const startup = Math.min(num(c.startup) ?? 0, byReason['no-listener'] ?? 0);
  if (startup > 0) {
    const left = byReason['no-listener']! - startup;
    if (left > 0) byReason['no-listener'] = left;
    else delete byReason['no-listener'];
  }
  return {
    accepted: num(c.accepted) ?? 0,
    bytesFromClients: num(c.bytesFromClients) ?? 0,
    bytesToClients: num(c.bytesToClients) ?? 0,
    errors: sumOf(c.refused) + sumOf(c.failed) + sumOf(c.broken) - startup,
    errorsByReason: byReason,
    startup,
  };
}

/** Reads the gateway's `connections` (`{ active, max }`). */
export function readGatewayConnections(reported: JsonObject): { active: number; max?: number } {
  const c = objectAt(reported, 'connections');
  return { active: num(c.active) ?? 0, ...optionalNumber('max', c.max) };
}

/** Reads the forwarder's `hybridConnections`, sorted by name. */
export function readForwarderHybridConnections(reported: JsonObject): ForwarderHybridConnectionReport[] {
  return sortedEntries(objectAt(reported, 'hybridConnections')).map(([name, hc]) => ({
    name,
    status: str(hc.status) ?? 'unknown',
    onlineListeners: num(hc.onlineListeners) ?? 0,
    listeners: num(hc.listeners) ?? 0,
    ...optionalReason(hc.reason),
    ...optionalString('tokenExpiresAt', hc.tokenExpiresAt),
    ...optionalNumber('reconnects', hc.reconnects),
    ...optionalNumber('tokenRenewals', hc.tokenRenewals),
    services: sortedEntries(objectAt(hc, 'services')).map(([service, s]) => ({
      name: service,
      status: str(s.status) ?? 'unknown',
      ...optionalString('target', s.target),
      active: num(objectAt(s, 'counters').active) ?? num(s.active) ?? 0,
    })),
  }));
}

function objectAt(parent: JsonObject, key: string): JsonObject {
  const v = parent[key];
  return isJsonObject(v) ? v : {};
}

function sortedEntries(map: JsonObject): [string, JsonObject][] {
  return Object.entries(map)
    .filter((e): e is [string, JsonObject] => isJsonObject(e[1]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: JsonValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function sumOf(v: JsonValue | undefined): number {
  if (!isJsonObject(v)) return num(v) ?? 0;
  return Object.values(v).reduce<number>((total, n) => total + (num(n) ?? 0), 0);
}

function optionalString<K extends string>(key: K, v: JsonValue | undefined): { [P in K]?: string } {
  return (typeof v === 'string' ? { [key]: v } : {}) as { [P in K]?: string };
}

function optionalNumber<K extends string>(key: K, v: JsonValue | undefined): { [P in K]?: number } {
  const n = num(v);
  return (n === undefined ? {} : { [key]: n }) as { [P in K]?: number };
}

function optionalReason(v: JsonValue | undefined): { reason?: Reason } {
  if (!isJsonObject(v)) return {};
  return { reason: { code: str(v.code) ?? 'UNKNOWN', message: str(v.message) ?? '' } };
}
