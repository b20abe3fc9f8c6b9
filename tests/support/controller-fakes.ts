// In-memory stand-ins for the two external services the fleet controller talks to (IoT Hub twins, the Relay
// ARM API), behind the controller's own adapter interfaces: fast unit tests of the executor and loop, and the
// planning-only part of the reconcile benchmark. The sandbox-backed integration tests use the real SDKs.
import { randomBytes } from 'node:crypto';
import type { FleetTwins } from '../../cloud/src/adapters/fleet-twins';
import type { RelayAdmin } from '../../cloud/src/adapters/relay-admin';
import { ControllerError } from '../../cloud/src/errors';
import { fenceGenerationOf } from '../../cloud/src/lease/record';
import { applyMergePatch, isJsonObject, type JsonObject } from '../../cloud/src/model/json';
import type {
  ObservedDevice,
  ObservedHybridConnection,
  ObservedModule,
} from '../../cloud/src/model/observed';

interface Twin {
  tags: JsonObject;
  desired: JsonObject;
  version: number;
}

/** IoT Hub twins in memory: etags are versions; a patch with a stale etag gets 412. */
export class FakeTwins implements FleetTwins {
  readonly devices = new Map<string, Twin>();
  readonly modules = new Map<string, Twin>();
  /** Calls by method name, for assertions. */
  readonly calls = new Map<string, number>();

  addDevice(deviceId: string, tags: JsonObject = {}): void {
    this.devices.set(deviceId, { tags, desired: {}, version: 1 });
  }

  addModule(deviceId: string, moduleId: string, desired: JsonObject = {}): void {
    this.modules.set(`${deviceId}/${moduleId}`, { tags: {}, desired, version: 1 });
  }

  removeDevice(deviceId: string): void {
    this.devices.delete(deviceId);
    for (const key of [...this.modules.keys()]) if (key.startsWith(`${deviceId}/`)) this.modules.delete(key);
  }

  /** A change made by someone else (bumps the version, so the controller's etag goes stale). */
  touch(deviceId: string, moduleId?: string, tagsPatch: JsonObject = {}): void {
    const twin = moduleId ? this.modules.get(`${deviceId}/${moduleId}`)! : this.devices.get(deviceId)!;
    twin.tags = applyMergePatch(twin.tags, tagsPatch);
    twin.version++;
  }

  device(deviceId: string): Twin | undefined {
    return this.devices.get(deviceId);
  }

  module(deviceId: string, moduleId: string): Twin | undefined {
    return this.modules.get(`${deviceId}/${moduleId}`);
  }

  async queryDevices(): Promise<ObservedDevice[]> {
    this.count('queryDevices');
    return [...this.devices]
      .filter(([, t]) => t.tags.relay !== undefined || t.tags.relayStatus !== undefined)
      .map(([id, t]) => deviceView(id, t));
  }

  async queryModules(moduleIds: readonly string[]): Promise<ObservedModule[]> {
    this.count('queryModules');
    return [...this.modules]
      .filter(([key]) => moduleIds.includes(key.split('/')[1]!))
      .map(([key, t]) => moduleView(key, t));
  }

  async getDevice(deviceId: string): Promise<ObservedDevice | undefined> {
    this.count('getDevice');
    const t = this.devices.get(deviceId);
    return t && deviceView(deviceId, t);
  }

  async getModule(deviceId: string, moduleId: string): Promise<ObservedModule | undefined> {
    this.count('getModule');
    const key = `${deviceId}/${moduleId}`;
    const t = this.modules.get(key);
    return t && moduleView(key, t);
  }

  async patchDeviceTags(deviceId: string, tags: JsonObject, etag: string): Promise<ObservedDevice> {
    this.count('patchDeviceTags');
    const t = this.check(this.devices.get(deviceId), etag);
    t.tags = applyMergePatch(t.tags, tags);
    t.version++;
    return deviceView(deviceId, t);
  }

  async patchModuleDesired(
    deviceId: string,
    moduleId: string,
    desired: JsonObject,
    etag: string,
    tags?: JsonObject,
  ): Promise<ObservedModule> {
    this.count('patchModuleDesired');
    const key = `${deviceId}/${moduleId}`;
    const t = this.check(this.modules.get(key), etag);
    t.desired = applyMergePatch(t.desired, desired);
    if (tags) t.tags = applyMergePatch(t.tags, tags);
    t.version++;
    return moduleView(key, t);
  }

  async changeFingerprint(): Promise<string> {
    this.count('changeFingerprint');
    return JSON.stringify([
      [...this.devices].map(([id, t]) => [id, t.tags.relay ?? null]),
      [...this.modules.keys()],
    ]);
  }

  private check(twin: Twin | undefined, etag: string): Twin {
    if (!twin) throw new ControllerError('CONTROLLER_TWIN_NOT_FOUND', 'no such twin', false, 404);
    if (etag !== String(twin.version))
      throw new ControllerError('CONTROLLER_ETAG_MISMATCH', 'etag mismatch', true, 412);
    return twin;
  }

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }
}

interface FakeHc {
  userMetadata?: string;
  rules: Map<string, { rights: readonly string[]; key: string }>;
}

/** A Relay namespace's management plane in memory. */
export class FakeRelay implements RelayAdmin {
  readonly hybridConnections = new Map<string, FakeHc>();
  readonly calls = new Map<string, number>();
  /** Operations (by method name) that fail with a retryable ARM error while listed. */
  readonly failing = new Set<string>();

  constructor(private readonly host = 'contoso.servicebus.windows.net') {}

  async namespaceHost(): Promise<string> {
    return this.host;
  }

  async listHybridConnections(): Promise<ObservedHybridConnection[]> {
    this.count('listHybridConnections');
    return [...this.hybridConnections].map(([name, hc]) => ({
      name,
      ...(hc.userMetadata !== undefined && { userMetadata: hc.userMetadata }),
    }));
  }

  async createHybridConnection(name: string, userMetadata: string): Promise<void> {
    this.count('createHybridConnection');
    const hc = this.hybridConnections.get(name);
    if (hc) hc.userMetadata = userMetadata;
    else this.hybridConnections.set(name, { userMetadata, rules: new Map() });
  }

  async createAuthorizationRule(
    hybridConnection: string,
    rule: string,
    rights: readonly ('Listen' | 'Send')[],
  ): Promise<void> {
    this.count('createAuthorizationRule');
    const hc = this.hybridConnections.get(hybridConnection);
    if (!hc) throw new ControllerError('CONTROLLER_ARM_FAILED', 'no such hybrid connection', false, 404);
    const existing = hc.rules.get(rule);
    hc.rules.set(rule, { rights: [...rights], key: existing?.key ?? randomBytes(32).toString('base64') });
  }

  async primaryKey(hybridConnection: string, rule: string): Promise<string> {
    this.count('primaryKey');
    const key = this.hybridConnections.get(hybridConnection)?.rules.get(rule)?.key;
    if (!key) throw new ControllerError('CONTROLLER_RULE_NOT_FOUND', 'no such rule', false, 404);
    return key;
  }

  async deleteHybridConnection(name: string): Promise<void> {
    this.count('deleteHybridConnection');
    this.hybridConnections.delete(name);
  }

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (this.failing.has(name))
      throw new ControllerError('CONTROLLER_ARM_FAILED', `${name} failed (test)`, true, 503);
  }
}

function deviceView(deviceId: string, t: Twin): ObservedDevice {
  return { deviceId, etag: String(t.version), tags: structuredClone(t.tags) };
}

function moduleView(key: string, t: Twin): ObservedModule {
  const [deviceId, moduleId] = key.split('/') as [string, string];
  return {
    deviceId,
    moduleId,
    etag: String(t.version),
    desired: isJsonObject(t.desired) ? structuredClone(t.desired) : {},
    ...(fenceGenerationOf(t.tags) > 0 && { fenceGeneration: fenceGenerationOf(t.tags) }),
  };
}
