import {
  ConfigurationRecord,
  configurationEtag,
  configurationView,
  isLayered,
  newConfiguration,
  updateConfiguration,
} from './configuration';
import { compareConfigurations, Contribution, foldContributions, FoldResult } from './configuration-fold';
import { IotHubError } from './errors';
import { IdentityRecord, twinView } from './identity';
import { isJsonObject, JsonObject } from './json';
import { Expr, QuerySource } from './query/ast';
import { matches } from './query/evaluate';
import { parseQuery, parseTargetCondition } from './query/parser';
import { checkIfMatch, Registry, RegistryEvent } from './registry';
import { TwinConfigurationStatus } from './twin';

interface Compiled {
  record: ConfigurationRecord;
  from: QuerySource;
  where?: Expr;
  /** False for an empty target condition, which targets nothing. */
  active: boolean;
}

/**
 * Automatic device management: stores configurations and keeps targeted twins' desired properties equal to
 * what the configurations say. Unlike the real service (which re-evaluates every few minutes) the sandbox
 * re-evaluates at once: on configuration changes, on device creation, module creation, and tag or reported
 * changes of a device.
 */
export class ConfigurationsService {
  private readonly configs = new Map<string, Compiled>();
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly registry: Registry,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.unsubscribe = registry.on((event) => this.onRegistryEvent(event));
  }

  /** Stops listening to the registry. */
  close(): void {
    this.unsubscribe();
  }

  /** Subscribes to configuration set changes (for persistence). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates (no If-Match) or updates (If-Match) a configuration, then re-applies every twin. */
  put(id: string, body: JsonObject, ifMatch?: string): JsonObject {
    const existing = this.configs.get(id);
    const nowIso = this.now().toISOString();
    if (!existing) {
      if (ifMatch !== undefined && ifMatch.replace(/"/g, '') !== '*') {
        throw new IotHubError('ConfigurationNotFound', `Configuration ${id} not found`);
      }
      this.configs.set(id, compile(newConfiguration(id, body, nowIso)));
    } else {
      if (ifMatch === undefined) {
        throw new IotHubError('ConfigurationAlreadyExists', `Configuration '${id}' already exists`);
      }
      checkIfMatch(ifMatch, configurationEtag(existing.record));
      const copy = structuredClone(existing.record);
      updateConfiguration(copy, body, nowIso);
      this.configs.set(id, compile(copy));
    }
    this.changed();
    return this.get(id);
  }

  /** The configuration JSON with current metrics, or ConfigurationNotFound. */
  get(id: string): JsonObject {
    const compiled = this.configs.get(id);
    if (!compiled) throw new IotHubError('ConfigurationNotFound', `Configuration ${id} not found`);
    return this.view(compiled.record);
  }

  /** All configurations, at most `top`. */
  list(top?: number): JsonObject[] {
    const all = [...this.configs.values()].map((c) => this.view(c.record));
    return top === undefined ? all : all.slice(0, top);
  }

  /** Deletes a configuration; twins keep their desired properties, as in IoT Hub. */
  delete(id: string, ifMatch?: string): void {
    const compiled = this.configs.get(id);
    if (!compiled) throw new IotHubError('ConfigurationNotFound', `Configuration ${id} not found`);
    checkIfMatch(ifMatch, configurationEtag(compiled.record));
    this.configs.delete(id);
    this.changed();
  }

  /** Applies content directly to one device's modules (`applyConfigurationContent`, as `az iot edge set-modules`). */
  applyContentOnDevice(deviceId: string, body: JsonObject): void {
    const entry = this.registry.getDeviceEntry(deviceId);
    const modulesContent = body.modulesContent ?? body.moduleContent;
    if (isJsonObject(modulesContent)) {
      for (const [moduleId, content] of Object.entries(modulesContent)) {
        const record = entry.modules.get(moduleId);
        const desired = isJsonObject(content) ? content['properties.desired'] : undefined;
        if (record && isJsonObject(desired)) this.registry.setDesiredFromConfigurations(record, desired);
      }
    }
    const deviceContent = body.deviceContent;
    if (isJsonObject(deviceContent) && isJsonObject(deviceContent['properties.desired'])) {
      this.registry.setDesiredFromConfigurations(entry.device, deviceContent['properties.desired']);
    }
  }

  /** Plain data for persistence. */
  snapshot(): ConfigurationRecord[] {
    return [...this.configs.values()].map((c) => structuredClone(c.record));
  }

  /** Loads persisted configurations (then call `applyAll`). */
  restore(records: readonly ConfigurationRecord[]): void {
    this.configs.clear();
    for (const r of records) this.configs.set(r.id, compile(r));
  }

  /** Re-evaluates every device. */
  applyAll(): void {
    for (const device of this.registry.listDevices()) this.applyDevice(device.deviceId);
  }

  private changed(): void {
    this.applyAll();
    for (const l of [...this.listeners]) l();
  }

  private onRegistryEvent(event: RegistryEvent): void {
    if (event.type === 'identityCreated' || event.type === 'tags' || event.type === 'reported') {
      // Conditions may use tags or reported properties; only device-level changes can re-target a device,
      // but module tags matter for module configurations, so the whole device is re-evaluated either way.
      if (this.registry.findIdentity(event.identity.deviceId)) this.applyDevice(event.identity.deviceId);
    }
  }

  /** Re-evaluates one device and its modules. */
  applyDevice(deviceId: string): void {
    const entry = this.registry.getDeviceEntry(deviceId);
    const deviceRow = twinView(entry.device, entry.device);
    const targeting = (kind: ConfigurationRecord['contentKind'], row: JsonObject) =>
      [...this.configs.values()].filter(
        (c) =>
          c.active &&
          c.record.contentKind === kind &&
          // Module configurations run against module twins whether or not they say FROM devices.modules.
          (kind === 'moduleContent' || c.from === 'devices') &&
          matches(c.where, row),
      );

    const deviceFold = foldContributions(
      targeting('deviceContent', deviceRow).map((c) => ({ config: c.record, entry: c.record.content })),
    );
    const edge = targeting('modulesContent', deviceRow).map((c) => c.record);
    const bases = edge.filter((r) => !isLayered(r)).sort(compareConfigurations);
    const baseWinner = bases[bases.length - 1];
    const outranksBase = (r: ConfigurationRecord) => !baseWinner || compareConfigurations(r, baseWinner) > 0;
    const applies = (r: ConfigurationRecord) => r === baseWinner || (isLayered(r) && outranksBase(r));
    const edgeApplied = edge.filter(applies).map((r) => r.id);
    this.write(
      entry.device,
      deviceFold,
      edge.map((r) => r.id),
      edgeApplied,
    );

    for (const module of entry.modules.values()) {
      const moduleId = module.moduleId ?? '';
      const contributions: Contribution[] = [];
      for (const r of edge) {
        const content = r.content[moduleId];
        if ((r === baseWinner || isLayered(r)) && isJsonObject(content))
          contributions.push({ config: r, entry: content });
      }
      const moduleRow = twinView(module, entry.device);
      for (const c of targeting('moduleContent', moduleRow))
        contributions.push({ config: c.record, entry: c.record.content });
      this.write(module, foldContributions(contributions), [], []);
    }
  }

  private write(
    record: IdentityRecord,
    fold: FoldResult,
    extraTargeted: string[],
    extraApplied: string[],
  ): void {
    const statuses: Record<string, TwinConfigurationStatus> = {};
    for (const id of [...fold.targeted, ...extraTargeted]) statuses[id] = { status: 'targeted' };
    for (const id of [...fold.applied, ...extraApplied]) statuses[id] = { status: 'applied' };
    record.twin.configurations = statuses;
    if (fold.desired === undefined) {
      delete record.twin.configFingerprint;
      return;
    }
    const fingerprint = JSON.stringify([fold.applied, fold.desired]);
    if (record.twin.configFingerprint === fingerprint) return;
    record.twin.configFingerprint = fingerprint;
    this.registry.setDesiredFromConfigurations(record, fold.desired);
  }

  private view(record: ConfigurationRecord): JsonObject {
    let targetedCount = 0;
    let appliedCount = 0;
    for (const { record: identity } of this.registry.identities()) {
      const status = identity.twin.configurations[record.id]?.status;
      if (status) targetedCount += 1;
      if (status === 'applied') appliedCount += 1;
    }
    const metricResults: Record<string, number> = {};
    for (const [name, text] of Object.entries(record.metricQueries)) {
      const query = parseQuery(text);
      let count = 0;
      for (const { record: identity, device } of this.registry.identities()) {
        if ((identity.moduleId !== undefined) !== (query.from === 'devices.modules')) continue;
        if (matches(query.where, twinView(identity, device))) count += 1;
      }
      metricResults[name] = count;
    }
    return configurationView(record, { targetedCount, appliedCount }, metricResults);
  }
}

function compile(record: ConfigurationRecord): Compiled {
  if (record.targetCondition.trim() === '') return { record, from: 'devices', active: false };
  const { from, where } = parseTargetCondition(record.targetCondition);
  return where ? { record, from, where, active: true } : { record, from, active: true };
}
