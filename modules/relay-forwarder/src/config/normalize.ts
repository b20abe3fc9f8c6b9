import { compileConfigSchema, type ConfigProblem, type ValidationResult } from '../../../common/src/config/schema-validator';
import { resolveRelayCredentials } from '../../../common/src/config/credentials';
import { jsonPointer } from '../../../common/src/config/json-pointer';
import { asRecord, numberOr, sortProblems, type Unchecked } from '../../../common/src/config/unchecked';
import { parseTarget, type TargetAddress } from '../../../common/src/net/target';
import schema from './schema.json';
import type {
  ForwarderConfig,
  ForwarderConfigDocument,
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

  const { namespace, path, credential } = resolveRelayCredentials(entry, nowMs, at, problems, { onMismatch: 'drop' });
  if (namespace !== undefined && path !== undefined) endpoints.push({ name, namespace, path });

  if (problems.length > before || !credential || namespace === undefined || path === undefined || !services)
    return undefined;
  return {
    name,
    namespace,
    path,
    credential,
    listeners: numberOr(entry.listeners, DEFAULT_LISTENERS),
    // Absent stays absent: the forwarder's own default (1,024) applies.
    ...(typeof entry.muxMaxStreams === 'number' && { muxMaxStreams: entry.muxMaxStreams }),
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
    const protocol = service.protocol === 'udp' ? 'udp' : 'tcp';
    if (protocol === 'udp' && target.kind !== 'tcp') {
      problems.push({ path: at('services', name, 'target'), message: 'a udp service needs host:port, not a Unix socket' });
      continue;
    }
    if (protocol === 'udp' && service.proxyProtocol !== undefined) {
      problems.push({ path: at('services', name, 'proxyProtocol'), message: 'the PROXY protocol header is for tcp services only' });
      continue;
    }
    services.set(name, {
      name,
      target,
      maxConnections: numberOr(service.maxConnections, serviceDefaults.maxConnections.default),
      connectTimeoutMs: numberOr(service.connectTimeoutMs, serviceDefaults.connectTimeoutMs.default),
      idleTimeoutMs: numberOr(service.idleTimeoutMs, serviceDefaults.idleTimeoutMs.default),
      enabled: typeof service.enabled === 'boolean' ? service.enabled : serviceDefaults.enabled.default,
      // TCP services keep their shape: only a udp service carries datagram settings.
      ...(protocol === 'udp' && {
        udp: {
          maxDatagramBytes: numberOr(service.maxDatagramBytes, serviceDefaults.maxDatagramBytes.default),
          flowIdleTimeoutMs: numberOr(service.flowIdleTimeoutMs, serviceDefaults.flowIdleTimeoutMs.default),
        },
      }),
      ...((service.proxyProtocol === 'v1' || service.proxyProtocol === 'v2') && { proxyProtocol: service.proxyProtocol }),
    });
  }
  return services;
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
