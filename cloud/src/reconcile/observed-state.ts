import type {
  ActionFailure,
  Observed,
  ObservedDevice,
  ObservedHybridConnection,
  ObservedModule,
} from '../model/observed';

/**
 * The observed fleet during one reconcile: starts from what was read, and each executed action records its
 * effect here, so the next planning pass sees the world as it now is without reading everything again.
 */
export class ObservedState {
  private readonly devices = new Map<string, ObservedDevice>();
  private readonly modules = new Map<string, ObservedModule>();
  private readonly hybridConnections = new Map<string, ObservedHybridConnection>();
  readonly keys = new Map<string, string>();
  readonly missingRules = new Set<string>();
  readonly failures = new Map<string, ActionFailure>();
  /** Rules created in this reconcile (a 404 on their keys right after is a failure, not a reason to create again). */
  readonly createdRules = new Set<string>();

  constructor(
    readonly nowMs: number,
    readonly namespaceHost: string,
    devices: readonly ObservedDevice[],
    modules: readonly ObservedModule[],
    hybridConnections: readonly ObservedHybridConnection[],
    keys: ReadonlyMap<string, string>,
    /** Every namespace's host by name (several namespaces configured). */
    readonly namespaceHosts?: ReadonlyMap<string, string>,
  ) {
    for (const d of devices) this.devices.set(d.deviceId, d);
    for (const m of modules) this.modules.set(moduleKey(m.deviceId, m.moduleId), m);
    for (const h of hybridConnections) this.hybridConnections.set(hcStateKey(h.name, h.namespace), h);
    for (const [ref, key] of keys) this.keys.set(ref, key);
  }

  /** An immutable view for planReconcile. */
  snapshot(): Observed {
    return {
      nowMs: this.nowMs,
      namespaceHost: this.namespaceHost,
      ...(this.namespaceHosts && { namespaceHosts: this.namespaceHosts }),
      devices: [...this.devices.values()],
      modules: [...this.modules.values()],
      hybridConnections: [...this.hybridConnections.values()],
      keys: new Map(this.keys),
      missingRules: new Set(this.missingRules),
      failures: new Map(this.failures),
    };
  }

  /** Counts for logs and the bench. */
  size(): { devices: number; modules: number; hybridConnections: number } {
    return {
      devices: this.devices.size,
      modules: this.modules.size,
      hybridConnections: this.hybridConnections.size,
    };
  }

  /** One device as now known. */
  device(deviceId: string): ObservedDevice | undefined {
    return this.devices.get(deviceId);
  }

  /** One module twin as now known. */
  module(deviceId: string, moduleId: string): ObservedModule | undefined {
    return this.modules.get(moduleKey(deviceId, moduleId));
  }

  putDevice(device: ObservedDevice): void {
    this.devices.set(device.deviceId, device);
  }

  removeDevice(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  putModule(module: ObservedModule): void {
    this.modules.set(moduleKey(module.deviceId, module.moduleId), module);
  }

  removeModule(deviceId: string, moduleId: string): void {
    this.modules.delete(moduleKey(deviceId, moduleId));
  }

  putHybridConnection(hc: ObservedHybridConnection): void {
    this.hybridConnections.set(hcStateKey(hc.name, hc.namespace), hc);
  }

  removeHybridConnection(name: string, namespace?: string): void {
    this.hybridConnections.delete(hcStateKey(name, namespace));
    for (const ref of [...this.keys.keys()]) if (ref.startsWith(`${name}/`)) this.keys.delete(ref);
  }
}

// The same name may exist in two namespaces.
function hcStateKey(name: string, namespace: string | undefined): string {
  return `${namespace ?? ''}\u0000${name}`;
}

function moduleKey(deviceId: string, moduleId: string): string {
  return `${deviceId}\u0000${moduleId}`;
}
