import { isJsonObject, type JsonObject } from '../../common/src/twin/json';
import { methodError, methodOk, type MethodResult } from '../../common/src/twin/methods';
import type { ReportDetail } from '../../common/src/twin/scrub';
import type { ApplyOutcome, TwinModule } from '../../common/src/twin/twin-runner';
import { normalizeForwarderConfig } from './config/normalize';
import type { Forwarder } from './forwarder';
import type { HybridConnectionRuntime } from './runtime/hybrid-connection-runtime';
import {
  forwarderReport,
  forwarderStats,
  hybridConnectionStatus,
  serviceStatus,
  type ForwarderDrains,
} from './twin-report';

/** What an operator drained: whole hybrid connections, and single services (`hc/service`). */
export interface ForwarderDrainMarks {
  readonly hybridConnections: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
}

/**
 * The document the forwarder runs under operator drains: a drained hybrid connection is left out (its control
 * channels close, so the relay sends new connections to other listeners; its tunnels finish within
 * `drainTimeoutMs`), a drained service is disabled (new tunnels get 4403, live ones finish). The desired
 * properties are not touched; later desired versions keep the marks until `resume`.
 */
export function withDrains(document: JsonObject, marks: ForwarderDrainMarks): JsonObject {
  if (!isJsonObject(document.hybridConnections)) return document;
  if (marks.hybridConnections.size === 0 && marks.services.size === 0) return document;
  const hybridConnections: JsonObject = {};
  for (const [name, hc] of Object.entries(document.hybridConnections)) {
    if (marks.hybridConnections.has(name)) continue;
    if (!isJsonObject(hc) || !isJsonObject(hc.services)) {
      hybridConnections[name] = hc;
      continue;
    }
    const services: JsonObject = {};
    for (const [service, entry] of Object.entries(hc.services))
      services[service] =
        marks.services.has(`${name}/${service}`) && isJsonObject(entry)
          ? { ...entry, enabled: false }
          : entry;
    hybridConnections[name] = { ...hc, services };
  }
  return { ...document, hybridConnections };
}

/** relay-forwarder as a TwinModule: desired documents, reported listener and service state, stats, drain/resume. */
export class ForwarderTwinModule implements TwinModule {
  private lastGood: JsonObject | undefined;
  /** Drained hybrid connections, with their runtime (kept to follow its tunnels while they finish). */
  private readonly drainedHcs = new Map<string, HybridConnectionRuntime | undefined>();
  private readonly drainedServices = new Set<string>();
  readonly methods = {
    drain: (payload: JsonObject) => this.drain(payload),
    resume: (payload: JsonObject) => this.resume(payload),
  };

  constructor(
    private readonly forwarder: Forwarder,
    private readonly location?: string,
  ) {}

  applyDesired(document: JsonObject): Promise<ApplyOutcome> {
    const checked = normalizeForwarderConfig(document, { nowMs: Date.now() });
    if (!checked.ok) {
      // The forwarder logs and emits the refusal itself; the running configuration stays.
      this.forwarder.applyDocument(document);
      return Promise.resolve({ ok: false, problems: checked.problems });
    }
    this.lastGood = document;
    const configured = checked.value.hybridConnections;
    for (const name of [...this.drainedHcs.keys()]) if (!configured.has(name)) this.drainedHcs.delete(name);
    for (const key of [...this.drainedServices]) {
      const [hc, service] = splitKey(key);
      if (!configured.get(hc)?.services.has(service)) this.drainedServices.delete(key);
    }
    return Promise.resolve(this.applyLastGood());
  }

  report(detail: ReportDetail): JsonObject {
    return forwarderReport(this.forwarder.state(), this.drains(), detail);
  }

  stats(): JsonObject[] {
    return forwarderStats(this.forwarder.state(), this.drains(), this.location);
  }

  onStateChange(listener: () => void): () => void {
    let signature = this.statusSignature();
    // Listener attempts and tunnels come and go: report only when a status someone would look at changed.
    let stopped = false;
    const check = (): void => {
      const next = this.statusSignature();
      if (stopped || next === signature) return;
      signature = next;
      listener();
    };
    // Events fire before the runtime has forgotten the tunnel or channel: look once the current work is done.
    const onEvent = (): void => void setImmediate(check);
    const always = (): void => {
      signature = this.statusSignature();
      listener();
    };
    this.forwarder.on('configApplied', always);
    this.forwarder.on('configRejected', always);
    this.forwarder.on('listenerState', onEvent);
    this.forwarder.on('tunnelClosed', onEvent);
    return () => {
      stopped = true;
      this.forwarder.off('configApplied', always);
      this.forwarder.off('configRejected', always);
      this.forwarder.off('listenerState', onEvent);
      this.forwarder.off('tunnelClosed', onEvent);
    };
  }

  private drain(payload: JsonObject): MethodResult {
    const target = this.select(payload);
    if ('status' in target) return target;
    if (target.service !== undefined) {
      this.drainedServices.add(`${target.hybridConnections[0]}/${target.service}`);
    } else {
      for (const name of target.hybridConnections)
        if (!this.drainedHcs.has(name)) this.drainedHcs.set(name, this.forwarder.runtime(name));
    }
    this.applyLastGood();
    return methodOk({ draining: this.describe(target), state: this.report('compact') });
  }

  private resume(payload: JsonObject): MethodResult {
    if (payload.hybridConnection === undefined && payload.service === undefined) {
      if (!this.lastGood) return methodError(409, 'NOT_CONFIGURED', 'no configuration has been applied yet');
      const resumed = {
        hybridConnections: [...this.drainedHcs.keys()].sort(),
        services: [...this.drainedServices].sort(),
      };
      this.drainedHcs.clear();
      this.drainedServices.clear();
      this.applyLastGood();
      return methodOk({ resumed, state: this.report('compact') });
    }
    const target = this.select(payload);
    if ('status' in target) return target;
    const name = target.hybridConnections[0]!;
    if (target.service !== undefined) this.drainedServices.delete(`${name}/${target.service}`);
    else {
      this.drainedHcs.delete(name);
      for (const key of [...this.drainedServices])
        if (splitKey(key)[0] === name) this.drainedServices.delete(key);
    }
    this.applyLastGood();
    return methodOk({ resumed: this.describe(target), state: this.report('compact') });
  }

  // `{ hybridConnection, service? }`, or nothing for every hybrid connection.
  private select(payload: JsonObject): { hybridConnections: string[]; service?: string } | MethodResult {
    if (!this.lastGood) return methodError(409, 'NOT_CONFIGURED', 'no configuration has been applied yet');
    const { hybridConnection, service } = payload;
    const known = this.knownHybridConnections();
    if (hybridConnection === undefined) {
      if (service !== undefined) return methodError(400, 'BAD_PAYLOAD', '"service" needs "hybridConnection"');
      return { hybridConnections: [...known.keys()].sort() };
    }
    if (typeof hybridConnection !== 'string' || (service !== undefined && typeof service !== 'string'))
      return methodError(
        400,
        'BAD_PAYLOAD',
        'expected { "hybridConnection": "<name>", "service"?: "<name>" }',
      );
    const services = known.get(hybridConnection);
    if (!services)
      return methodError(404, 'UNKNOWN_HYBRID_CONNECTION', `no hybrid connection "${hybridConnection}"`);
    if (service === undefined) return { hybridConnections: [hybridConnection] };
    if (!services.includes(service))
      return methodError(404, 'UNKNOWN_SERVICE', `no service "${service}" on "${hybridConnection}"`);
    return { hybridConnections: [hybridConnection], service };
  }

  private knownHybridConnections(): Map<string, string[]> {
    const known = new Map<string, string[]>();
    const hcs = this.lastGood?.hybridConnections;
    if (!isJsonObject(hcs)) return known;
    for (const [name, hc] of Object.entries(hcs))
      known.set(name, isJsonObject(hc) && isJsonObject(hc.services) ? Object.keys(hc.services) : []);
    return known;
  }

  private describe(target: { hybridConnections: string[]; service?: string }): JsonObject {
    return {
      hybridConnections: target.hybridConnections,
      ...(target.service !== undefined && { service: target.service }),
    };
  }

  private applyLastGood(): ApplyOutcome {
    if (!this.lastGood) return { ok: true };
    const result = this.forwarder.applyDocument(
      withDrains(this.lastGood, {
        hybridConnections: new Set(this.drainedHcs.keys()),
        services: this.drainedServices,
      }),
    );
    return result.ok ? { ok: true } : { ok: false, problems: result.problems };
  }

  private drains(): ForwarderDrains {
    const hybridConnections = new Map<string, { activeTunnels: number; namespace: string; path: string }>();
    for (const [name, runtime] of this.drainedHcs) {
      hybridConnections.set(name, {
        activeTunnels: runtime?.activeTunnels ?? 0,
        namespace: runtime?.current.namespace ?? '',
        path: runtime?.current.path ?? '',
      });
    }
    return { hybridConnections, services: this.drainedServices };
  }

  private statusSignature(): string {
    const state = this.forwarder.state();
    const parts: string[] = [];
    for (const [name, hc] of Object.entries(state.hybridConnections)) {
      parts.push(
        `${name}:${hybridConnectionStatus(hc)}:${hc.onlineListeners}/${hc.listeners}:${hc.lastError?.code ?? ''}`,
      );
      for (const [service, s] of Object.entries(hc.services))
        parts.push(
          `${name}/${service}:${serviceStatus(s.enabled, s.active, this.drainedServices.has(`${name}/${service}`))}`,
        );
    }
    for (const [name, runtime] of this.drainedHcs)
      parts.push(`${name}:drain:${(runtime?.activeTunnels ?? 0) > 0}`);
    return parts.join(',');
  }
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
