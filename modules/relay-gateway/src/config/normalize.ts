import { isIP } from 'node:net';
import { compileConfigSchema, type ConfigProblem, type ValidationResult } from '../../../common/src/config/schema-validator';
import { CidrAllowList } from '../../../common/src/net/cidr';
import { jsonPointer } from '../../../common/src/config/json-pointer';
import { asRecord, numberOr, sortProblems, type Unchecked } from '../../../common/src/config/unchecked';
import { normalizeMtls } from '../mtls/mtls-config';
import { normalizeSniRouting } from '../sni/sni-config';
import { normalizeUdpRoutes } from '../udp/udp-config';
import { resolveHybridConnection } from './hybrid-connection';
import { findPortConflicts, type Binding } from './port-conflicts';
import schema from './schema.json';
import type { AcceptProxyProtocol, GatewayConfig, GatewayConfigDocument, GatewayHybridConnection, GatewayRoute, RouteDocument } from './types';

/** Options for normalizeGatewayConfig. */
export interface NormalizeGatewayOptions {
  /** Clock for the "token already expired" check. */
  readonly nowMs?: number;
}

/** Outcome of normalizeGatewayConfig: the configuration, or every problem with its JSON pointer. */
export type NormalizeGatewayResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const validateSchema = compileConfigSchema<GatewayConfigDocument>(schema);

// Defaults live in the schema only, so the published schema and the code cannot disagree.
const routeDefaults = schema.$defs.route.properties;
const DEFAULT_DRAIN_TIMEOUT_MS = schema.properties.drainTimeoutMs.default;
const DEFAULT_MAX_CONNECTIONS = schema.properties.limits.properties.maxConnections.default;

/**
 * Turns a configuration document (twin desired properties or a --config file) into a GatewayConfig, or returns
 * every problem found: schema violations plus what a schema cannot express (credentials, a route naming an
 * unknown hybrid connection, bad CIDR entries, bind addresses that are not IP literals, and two routes that
 * cannot listen together, named both). Pure: no I/O, the clock comes from `options`.
 */
export function normalizeGatewayConfig(document: unknown, options: NormalizeGatewayOptions = {}): NormalizeGatewayResult {
  const nowMs = options.nowMs ?? Date.now();
  const schemaResult: ValidationResult<GatewayConfigDocument> = validateSchema(document);
  const problems: ConfigProblem[] = schemaResult.ok ? [] : [...schemaResult.problems];
  const root = asRecord(document) ?? {};
  const hcEntries = asRecord(root.hybridConnections) ?? {};

  // Semantic checks run on whatever parts are well-formed, so one round trip shows every problem.
  const hybridConnections = new Map<string, GatewayHybridConnection>();
  for (const [name, raw] of Object.entries(hcEntries)) {
    const entry = asRecord(raw);
    const hc = entry && resolveHybridConnection(name, entry, nowMs, problems);
    if (hc) hybridConnections.set(name, hc);
  }

  const routes = new Map<string, GatewayRoute>();
  for (const [id, raw] of Object.entries(asRecord(root.routes) ?? {})) {
    const entry = asRecord(raw) as Unchecked<RouteDocument> | undefined;
    const route = entry && normalizeRoute(id, entry, hcEntries, problems);
    if (route) routes.set(id, route);
  }
  checkPortConflicts(routes, problems);
  const udpRoutes = normalizeUdpRoutes(root.udpRoutes, hcEntries, problems);

  if (!schemaResult.ok || problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const doc = schemaResult.value;
  return {
    ok: true,
    config: {
      ...(doc.logLevel !== undefined && { logLevel: doc.logLevel }),
      drainTimeoutMs: doc.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      maxConnections: doc.limits?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      hybridConnections,
      routes,
      ...(udpRoutes && { udpRoutes }),
    },
  };
}

function normalizeRoute(
  id: string,
  entry: Unchecked<RouteDocument>,
  hcEntries: Record<string, unknown>,
  problems: ConfigProblem[],
): GatewayRoute | undefined {
  const at = (...rest: Array<string | number>): string => jsonPointer('routes', id, ...rest);
  const before = problems.length;
  const { port, hybridConnection, service } = entry;

  const { bindAddress, allow, allowList } = normalizeRouteEndpoint(
    entry,
    hcEntries,
    routeDefaults.bindAddress.default,
    at,
    problems,
  );

  const acceptProxyProtocol = normalizeProxyIntake(asRecord(entry.acceptProxyProtocol), at, problems);
  const sni = normalizeSniRouting(asRecord(entry.sni), hcEntries, at, problems);
  const mtls = normalizeMtls(asRecord(entry.mtls), at, problems);
  if (entry.sni !== undefined && entry.mtls !== undefined)
    problems.push({ path: at('mtls'), message: 'mtls terminates TLS, sni routes TLS it does not terminate: use one' });

  if (problems.length > before || typeof port !== 'number' || typeof hybridConnection !== 'string') return undefined;
  if (typeof service !== 'string' || !allow || !allowList) return undefined;
  return {
    id,
    port,
    bindAddress,
    hybridConnection,
    service,
    allow,
    allowList,
    maxConnections: numberOr(entry.maxConnections, routeDefaults.maxConnections.default),
    connectTimeoutMs: numberOr(entry.connectTimeoutMs, routeDefaults.connectTimeoutMs.default),
    idleTimeoutMs: numberOr(entry.idleTimeoutMs, routeDefaults.idleTimeoutMs.default),
    enabled: typeof entry.enabled === 'boolean' ? entry.enabled : routeDefaults.enabled.default,
    warmConnections: numberOr(entry.warmConnections, routeDefaults.warmConnections.default),
    warmMaxIdleMs: numberOr(entry.warmMaxIdleMs, routeDefaults.warmMaxIdleMs.default),
    multiplex: typeof entry.multiplex === 'boolean' ? entry.multiplex : routeDefaults.multiplex.default,
    muxConnections: numberOr(entry.muxConnections, routeDefaults.muxConnections.default),
    ...(acceptProxyProtocol && { acceptProxyProtocol }),
    ...(sni && { sni }),
    ...(mtls && { mtls }),
  };
}

// The trusted ranges are checked like the allow-list, each bad entry named by its pointer.
function normalizeProxyIntake(
  entry: Record<string, unknown> | undefined,
  at: (...rest: Array<string | number>) => string,
  problems: ConfigProblem[],
): AcceptProxyProtocol | undefined {
  const sources = entry?.trustedSources;
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) return undefined;
  const compiled = CidrAllowList.compile(sources);
  if (!compiled.ok) {
    for (const p of compiled.problems)
      problems.push({ path: at('acceptProxyProtocol', 'trustedSources', p.index), message: p.message });
    return undefined;
  }
  return {
    trustedSources: sources as string[],
    trustedList: compiled.list,
    headerTimeoutMs: numberOr(entry?.headerTimeoutMs, routeDefaults.acceptProxyProtocol.properties.headerTimeoutMs.default),
  };
}

// Disabled routes hold no socket, so only enabled ones can collide.
function checkPortConflicts(routes: ReadonlyMap<string, GatewayRoute>, problems: ConfigProblem[]): void {
  const bindings = new Map<string, Binding>();
  for (const route of routes.values()) if (route.enabled) bindings.set(route.id, route);
  for (const conflict of findPortConflicts(bindings)) {
    const a = bindings.get(conflict.first)!;
    const b = bindings.get(conflict.second)!;
    problems.push({
      path: jsonPointer('routes', conflict.second, 'port'),
      message:
        `port conflict: routes "${conflict.first}" (${a.bindAddress}:${a.port}) and "${conflict.second}" ` +
        `(${b.bindAddress}:${b.port}) cannot both listen`,
    });
  }
}

/** What a TCP and a UDP route share: a known hybrid connection, a bind address and a compiled allow-list. */
export interface RouteEndpoint {
  readonly bindAddress: string;
  readonly allow: string[] | undefined;
  readonly allowList: CidrAllowList | undefined;
}

/**
 * Checks the fields every route kind shares (`hybridConnection`, `bindAddress`, `allow`), pushing each problem at
 * its JSON pointer; `allow`/`allowList` are undefined when the list is missing or refused.
 */
export function normalizeRouteEndpoint(
  entry: { readonly hybridConnection?: unknown; readonly bindAddress?: unknown; readonly allow?: unknown },
  hcEntries: Record<string, unknown>,
  defaultBindAddress: string,
  at: (...rest: Array<string | number>) => string,
  problems: ConfigProblem[],
): RouteEndpoint {
  checkKnownHybridConnection(entry.hybridConnection, hcEntries, at('hybridConnection'), problems);
  const bindAddress = typeof entry.bindAddress === 'string' ? entry.bindAddress : defaultBindAddress;
  if (isIP(bindAddress) === 0)
    problems.push({
      path: at('bindAddress'),
      message: `"${bindAddress}" is not an IPv4 or IPv6 address (host names are not accepted, so conflicts can be checked)`,
    });
  let allowList: CidrAllowList | undefined;
  const allow =
    Array.isArray(entry.allow) && entry.allow.every((a) => typeof a === 'string')
      ? (entry.allow as string[])
      : undefined;
  if (allow) {
    const compiled = CidrAllowList.compile(allow);
    if (compiled.ok) allowList = compiled.list;
    else for (const p of compiled.problems) problems.push({ path: at('allow', p.index), message: p.message });
  }
  return { bindAddress, allow, allowList };
}

/** Reports a route's `hybridConnection` that names no entry of `hybridConnections`, listing the known ones. */
function checkKnownHybridConnection(
  hybridConnection: unknown,
  hcEntries: Record<string, unknown>,
  path: string,
  problems: ConfigProblem[],
): void {
  if (typeof hybridConnection !== 'string' || Object.hasOwn(hcEntries, hybridConnection)) return;
  const known = Object.keys(hcEntries).sort();
  const hint = known.length > 0 ? `known: ${known.map((k) => `"${k}"`).join(', ')}` : 'none is configured';
  problems.push({ path, message: `unknown hybrid connection "${hybridConnection}" (${hint})` });
}
