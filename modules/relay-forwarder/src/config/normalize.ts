import { compileConfigSchema, type ConfigProblem, type ValidationResult } from '../../../common/src/config/schema-validator';
import { parseRelayConnectionString, type RelayConnectionString } from '../../../common/src/hc/connection-string';
import { parseSasToken, type SasTokenFields } from '../../../common/src/hc/sas';
import { parseTarget, type TargetAddress } from '../../../common/src/net/target';
import schema from './schema.json';
import type {
  ForwarderConfig,
  ForwarderConfigDocument,
  ForwarderCredential,
  HybridConnectionConfig,
  HybridConnectionDocument,
  ServiceConfig,
  ServiceDocument,
} from './types';

/** Options for normalizeForwarderConfig. */
export interface NormalizeOptions {
  /** Clock for the "token already expired" check. */
  readonly nowMs?: number;
}

const validateSchema = compileConfigSchema<ForwarderConfigDocument>(schema);

// Defaults live in the schema only, so the published schema and the code cannot disagree.
const serviceDefaults = schema.$defs.service.properties;
const DEFAULT_LISTENERS = schema.$defs.listenedHybridConnection.properties.listeners.default;
const DEFAULT_DRAIN_TIMEOUT_MS = schema.properties.drainTimeoutMs.default;

/**
 * Turns a configuration document (twin desired properties or a --config file) into a ForwarderConfig, or
 * returns every problem found, each with its JSON pointer: schema violations plus the checks a schema cannot
 * express (target syntax, connection strings, tokens and their expiry, which hybrid connection an entry means).
 * Pure: no I/O, the clock comes from `options`.
 */
export function normalizeForwarderConfig(
  document: unknown,
  options: NormalizeOptions = {},
): ValidationResult<ForwarderConfig> {
  const nowMs = options.nowMs ?? Date.now();
  const schemaResult = validateSchema(document);
  const problems: ConfigProblem[] = schemaResult.ok ? [] : [...schemaResult.problems];
  // Semantic checks run on whatever parts are well-formed, so one round trip shows every problem.
  const hybridConnections = new Map<string, HybridConnectionConfig>();
  const endpoints: Endpoint[] = [];
  const entries = asRecord(asRecord(document)?.hybridConnections) ?? {};
  for (const [name, raw] of Object.entries(entries)) {
    const entry = asRecord(raw);
    if (!entry) continue;
    const hc = normalizeHybridConnection(name, entry, nowMs, problems, endpoints);
    if (hc) hybridConnections.set(name, hc);
  }
  checkDuplicateEndpoints(endpoints, problems);
  if (problems.length > 0 || !schemaResult.ok) return { ok: false, problems: sortProblems(problems) };

  const doc = schemaResult.value;
  return {
    ok: true,
    value: {
      ...(doc.logLevel !== undefined && { logLevel: doc.logLevel }),
      drainTimeoutMs: doc.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      hybridConnections,
    },
  };
}

/** A JSON pointer from path segments (RFC 6901 escaping). */
export function jsonPointer(...segments: readonly string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

// Semantic checks see the document before the schema has vouched for it: every field may have any type.
type Unchecked<T> = { readonly [K in keyof T]?: unknown };

function normalizeHybridConnection(
  name: string,
  entry: Unchecked<HybridConnectionDocument>,
  nowMs: number,
  problems: ConfigProblem[],
  endpoints: Endpoint[],
): HybridConnectionConfig | undefined {
  const at = (...rest: string[]): string => jsonPointer('hybridConnections', name, ...rest);
  const before = problems.length;
  const services = normalizeServices(entry.services, at, problems);

  let cs: RelayConnectionString | undefined;
  if (typeof entry.connectionString === 'string') {
    try {
      cs = parseRelayConnectionString(entry.connectionString);
    } catch (err) {
      problems.push({ path: at('connectionString'), message: (err as Error).message });
    }
  }

  let credential: ForwarderCredential | undefined;
  let tokenFields: SasTokenFields | undefined;
  let tokenAt = at('sasToken');
  const token = cs ? cs.sharedAccessSignature : typeof entry.sasToken === 'string' ? entry.sasToken : undefined;
  if (cs?.sharedAccessSignature !== undefined) tokenAt = at('connectionString');
  if (token !== undefined) {
    tokenFields = checkToken(token, nowMs, tokenAt, problems);
    if (tokenFields) credential = { kind: 'token', token, expiresAtMs: tokenFields.expiresAtSec * 1000 };
  } else if (cs?.sharedAccessKeyName !== undefined && cs.sharedAccessKey !== undefined) {
    credential = { kind: 'key', keyName: cs.sharedAccessKeyName, key: cs.sharedAccessKey };
  }
  if (cs && typeof entry.sasToken === 'string')
    problems.push({ path: at('sasToken'), message: 'give the token in "connectionString" or "sasToken", not both' });

  const namespace = resolveNamespace(entry, cs, at, problems);
  const path = resolvePath(entry, cs, tokenFields, at, problems);
  if (namespace !== undefined && path !== undefined) {
    endpoints.push({ name, namespace, path });
    if (tokenFields) checkTokenCoversEntity(tokenFields, namespace, path, tokenAt, problems);
  }

  if (problems.length > before || !credential || namespace === undefined || path === undefined || !services)
    return undefined;
  return {
    name,
    namespace,
    path,
    credential,
    listeners: numberOr(entry.listeners, DEFAULT_LISTENERS),
    services,
  };
}

function normalizeServices(
  raw: unknown,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): Map<string, ServiceConfig> | undefined {
  const entries = asRecord(raw);
  if (!entries) return undefined;
  const services = new Map<string, ServiceConfig>();
  for (const [name, rawService] of Object.entries(entries)) {
    const service = asRecord(rawService) as Unchecked<ServiceDocument> | undefined;
    if (!service || typeof service.target !== 'string') continue;
    let target: TargetAddress;
    try {
      target = parseTarget(service.target);
    } catch (err) {
      problems.push({ path: at('services', name, 'target'), message: (err as Error).message });
      continue;
    }
    services.set(name, {
      name,
      target,
      maxConnections: numberOr(service.maxConnections, serviceDefaults.maxConnections.default),
      connectTimeoutMs: numberOr(service.connectTimeoutMs, serviceDefaults.connectTimeoutMs.default),
      idleTimeoutMs: numberOr(service.idleTimeoutMs, serviceDefaults.idleTimeoutMs.default),
      enabled: typeof service.enabled === 'boolean' ? service.enabled : serviceDefaults.enabled.default,
    });
  }
  return services;
}

function checkToken(token: string, nowMs: number, at: string, problems: ConfigProblem[]): SasTokenFields | undefined {
  let fields: SasTokenFields;
  try {
    fields = parseSasToken(token);
  } catch (err) {
    problems.push({ path: at, message: (err as Error).message });
    return undefined;
  }
  // An expired token still names its entity: keep the fields so the path check does not add a second, false problem.
  if (fields.expiresAtSec * 1000 <= nowMs) {
    const when = new Date(fields.expiresAtSec * 1000).toISOString();
    problems.push({ path: at, message: `the SAS token expired at ${when}` });
  }
  return fields;
}

function resolveNamespace(
  entry: Unchecked<HybridConnectionDocument>,
  cs: RelayConnectionString | undefined,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): string | undefined {
  const given = typeof entry.namespace === 'string' ? entry.namespace : undefined;
  if (cs && given !== undefined && given.toLowerCase() !== cs.namespace.toLowerCase()) {
    problems.push({
      path: at('namespace'),
      message: `namespace "${given}" differs from the connection string's Endpoint "${cs.namespace}"`,
    });
    return undefined;
  }
  return cs?.namespace ?? given;
}

function resolvePath(
  entry: Unchecked<HybridConnectionDocument>,
  cs: RelayConnectionString | undefined,
  token: SasTokenFields | undefined,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): string | undefined {
  const given = typeof entry.path === 'string' ? entry.path : undefined;
  if (given !== undefined && cs?.entityPath !== undefined && given !== cs.entityPath) {
    problems.push({
      path: at('path'),
      message: `path "${given}" differs from the connection string's EntityPath "${cs.entityPath}"`,
    });
    return undefined;
  }
  const path = given ?? cs?.entityPath ?? (token && entityOfResource(token.resource));
  if (path === undefined && (cs || token)) {
    problems.push({
      path: at('path'),
      message: 'missing hybrid connection path: give "path" or EntityPath in the connection string',
    });
  }
  return path;
}

// A token signed for http://ns/hc names its entity; one signed for the whole namespace does not.
function entityOfResource(resource: string): string | undefined {
  const withoutScheme = resource.replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const entity = slash < 0 ? '' : withoutScheme.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return entity === '' ? undefined : entity;
}

// A token for another hybrid connection would be refused with 403 on every reconnect, forever: say so now.
// Hosts compare without their port, since an issuer may sign the namespace name and connect through a port.
function checkTokenCoversEntity(
  token: SasTokenFields,
  namespace: string,
  path: string,
  at: string,
  problems: ConfigProblem[],
): void {
  const granted = splitResource(token.resource);
  const wanted = { host: hostWithoutPort(namespace), path: path.toLowerCase().replace(/^\/+|\/+$/g, '') };
  const hostOk = granted.host === wanted.host;
  const pathOk = granted.path === '' || granted.path === wanted.path || wanted.path.startsWith(`${granted.path}/`);
  if (!hostOk || !pathOk)
    problems.push({
      path: at,
      message: `the SAS token was issued for "${token.resource}", which does not cover ${namespace}/${path}`,
    });
}

function splitResource(resource: string): { host: string; path: string } {
  const withoutScheme = resource.replace(/^[a-z]+:\/\//i, '').toLowerCase();
  const slash = withoutScheme.indexOf('/');
  const host = slash < 0 ? withoutScheme : withoutScheme.slice(0, slash);
  const path = slash < 0 ? '' : withoutScheme.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { host: hostWithoutPort(host), path };
}

function hostWithoutPort(host: string): string {
  return host.toLowerCase().replace(/:[0-9]+$/, '');
}

interface Endpoint {
  readonly name: string;
  readonly namespace: string;
  readonly path: string;
}

// Two entries on one hybrid connection would share its connections at random between different service maps.
function checkDuplicateEndpoints(endpoints: readonly Endpoint[], problems: ConfigProblem[]): void {
  const seen = new Map<string, string>();
  for (const endpoint of endpoints) {
    const key = `${endpoint.namespace.toLowerCase()}/${endpoint.path.toLowerCase()}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, endpoint.name);
    else
      problems.push({
        path: jsonPointer('hybridConnections', endpoint.name),
        message: `listens on the same hybrid connection (${endpoint.namespace}/${endpoint.path}) as "${first}"; merge their services`,
      });
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
