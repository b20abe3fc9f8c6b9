import { identityKey, twinView } from './identity';
import { JsonObject } from './json';
import { HubMessage, MessageFeed } from './message-feed';
import { PolicyRecord } from './policies';
import { SessionStore } from './mqtt/sessions';
import { Registry, RegistryEvent } from './registry';
import { RestThrottle } from './rest/throttle';

/** Where a running sandbox hub is and how to trust it. */
export interface HubConnectionInfo {
  hubName: string;
  /** `HostName` for connection strings: `localhost:{port}` (MQTT and HTTPS share the port). */
  hostName: string;
  port: number;
  /** CA certificate clients must trust (`setOptions({ ca })`, NODE_EXTRA_CA_CERTS, or `{ ca }` for service clients). */
  caPem: string;
  /** The CA as a file, when the hub has one (for `EdgeModuleCACertificateFile`). */
  caFile?: string;
}

/** A running sandbox IoT Hub: connection strings, the device-to-cloud feed, change events and in-process admin. */
export class SandboxIotHub {
  /** Hub name. */
  readonly hubName: string;
  /** `localhost:{port}`. */
  readonly hostName: string;
  /** The one TLS port of both protocols. */
  readonly port: number;
  /** Same as `port`: MQTT shares the HTTPS port. */
  readonly mqttPort: number;
  /** Same as `port`. */
  readonly httpsPort: number;
  /** CA certificate (PEM) to trust. */
  readonly caPem: string;
  /** CA file path, when the hub has a state directory or was given one. */
  readonly caFile: string | undefined;
  /** Service connection string of the `iothubowner` policy. */
  readonly ownerConnectionString: string;
  /** Alias of `messages`: the device-to-cloud feed. */
  readonly events: MessageFeed;
  /** Counts service-API calls per throttle class and refuses over its rates (`setRates`); set by startSandboxIotHub. */
  serviceThrottle = new RestThrottle();

  constructor(
    info: HubConnectionInfo,
    private readonly registry: Registry,
    private readonly policies: readonly PolicyRecord[],
    /** Telemetry and module output events, newest last; subscribe or wait on it. */
    readonly messages: MessageFeed,
    private readonly sessions: SessionStore,
    private readonly stopHub: () => Promise<void>,
  ) {
    this.hubName = info.hubName;
    this.hostName = info.hostName;
    this.port = info.port;
    this.mqttPort = info.port;
    this.httpsPort = info.port;
    this.caPem = info.caPem;
    this.caFile = info.caFile;
    this.ownerConnectionString = this.serviceConnectionString('iothubowner');
    this.events = messages;
  }

  /** Service connection string of a shared access policy (`iothubowner`, `service`, `registryRead`, …). */
  serviceConnectionString(policyName: string): string {
    const policy = this.policies.find((p) => p.keyName === policyName);
    if (!policy) throw new Error(`no shared access policy '${policyName}'`);
    return `HostName=${this.hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
  }

  /** Device connection string with the device's primary key; throws when the device does not exist. */
  deviceConnectionString(deviceId: string): string {
    const record = this.registry.getIdentity(deviceId);
    return `HostName=${this.hostName};DeviceId=${deviceId};SharedAccessKey=${record.keys.primaryKey}`;
  }

  /** Module connection string with the module's own primary key. */
  moduleConnectionString(deviceId: string, moduleId: string): string {
    const record = this.registry.getIdentity(deviceId, moduleId);
    return `HostName=${this.hostName};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${record.keys.primaryKey}`;
  }

  /**
   * Environment for `ModuleClient.fromEnvironment(Mqtt)` outside IoT Edge: `IotHubConnectionString` plus
   * `EdgeModuleCACertificateFile` (needs `caFile`).
   */
  moduleEnvironment(deviceId: string, moduleId: string): Record<string, string> {
    if (!this.caFile) throw new Error('the hub has no CA file; start it with stateDir or caFile');
    return {
      IotHubConnectionString: this.moduleConnectionString(deviceId, moduleId),
      EdgeModuleCACertificateFile: this.caFile,
    };
  }

  /** In-process admin for seeding demos (tests use the SDKs): creates a device, optionally with tags. */
  createDevice(deviceId: string, options: { tags?: JsonObject; iotEdge?: boolean } = {}): string {
    this.registry.putDevice(deviceId, { capabilities: { iotEdge: options.iotEdge === true } });
    if (options.tags) this.registry.patchTwin(deviceId, undefined, { tags: options.tags });
    return this.deviceConnectionString(deviceId);
  }

  /** In-process admin: creates a module identity; returns its connection string. */
  createModule(deviceId: string, moduleId: string): string {
    this.registry.putModule(deviceId, moduleId, {});
    return this.moduleConnectionString(deviceId, moduleId);
  }

  /** In-process read of a device or module twin, in the REST API's shape. */
  getTwin(deviceId: string, moduleId?: string): JsonObject {
    const record = this.registry.getIdentity(deviceId, moduleId);
    return twinView(record, this.registry.getDeviceEntry(deviceId).device);
  }

  /** In-process twin patch (tags and desired), as the service API would apply it. */
  patchTwin(deviceId: string, moduleId: string | undefined, patch: JsonObject): JsonObject {
    this.registry.patchTwin(deviceId, moduleId, patch);
    return this.getTwin(deviceId, moduleId);
  }

  /** Whether a device or module currently has an MQTT connection. */
  isConnected(deviceId: string, moduleId?: string): boolean {
    return this.registry.findIdentity(deviceId, moduleId)?.connectionState === 'Connected';
  }

  /**
   * Topic filters a device or module has subscribed to (kept across reconnects, as IoT Hub keeps sessions).
   * Lets a test wait until a client will actually receive desired patches or method calls.
   */
  subscriptionsOf(deviceId: string, moduleId?: string): string[] {
    return this.sessions.snapshot()[identityKey(deviceId, moduleId)] ?? [];
  }

  /** Calls `listener` on registry changes (twins, identities); returns the unsubscribe function. */
  onChange(listener: (event: RegistryEvent) => void): () => void {
    return this.registry.on(listener);
  }

  /** Resolves with the next telemetry or output event from a device or module matching `filter`. */
  waitForMessage(filter: (m: HubMessage) => boolean, timeoutMs = 10_000): Promise<HubMessage> {
    return this.messages.waitFor(filter, { timeoutMs });
  }

  /** Disconnects everyone, stops listening and writes the state file. Safe to call twice. */
  stop(): Promise<void> {
    return this.stopHub();
  }

  /** `device` or `device/module`, as MQTT client ids and log lines name identities. */
  static clientKey(deviceId: string, moduleId?: string): string {
    return identityKey(deviceId, moduleId);
  }
}
