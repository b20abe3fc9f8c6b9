import { IotHubError } from './errors';
import { identityKey } from './identity';
import { JsonValue } from './json';
import { methodRequestTopic } from './mqtt/topics';

/** How direct methods reach connected clients; the MQTT front implements it. */
export interface ClientDirectory {
  /** Publishes to one client if it is connected and subscribed to the topic; false otherwise. */
  deliver(clientKey: string, topic: string, payload: Buffer): boolean;
  /** True when the client is connected and subscribed to a filter matching `topic`. */
  canReceive(clientKey: string, topic: string): boolean;
  /** Calls `listener` whenever a client connects or subscribes; returns the unsubscribe function. */
  onReachabilityChange(listener: (clientKey: string) => void): () => void;
}

/** A service request to run a direct method. */
export interface MethodInvocation {
  deviceId: string;
  moduleId?: string;
  methodName: string;
  payload: JsonValue;
  responseTimeoutSec: number;
  connectTimeoutSec: number;
}

/** What the device answered. */
export interface MethodResult {
  status: number;
  payload: JsonValue;
}

/** IoT Hub's documented bounds for method timeouts (seconds) and payload size. */
export const METHOD_LIMITS = {
  minResponseSec: 5,
  maxResponseSec: 300,
  maxConnectSec: 300,
  maxPayloadBytes: 128 * 1024,
};

interface Pending {
  resolve(result: MethodResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Runs direct methods: request on `$iothub/methods/POST/{name}`, answer matched by client and `$rid`, bounded by timeouts. */
export class DirectMethods {
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<() => void>();
  private nextRid = 1;

  constructor(private readonly clients: ClientDirectory) {}

  /** Validates the request body fields the way IoT Hub does. */
  static validate(inv: MethodInvocation): void {
    if (!inv.methodName || inv.methodName.length > 128 || /[/?#+\s]/.test(inv.methodName)) {
      throw new IotHubError('ArgumentInvalid', `methodName '${inv.methodName}' is not valid`);
    }
    const { minResponseSec, maxResponseSec, maxConnectSec, maxPayloadBytes } = METHOD_LIMITS;
    if (!(inv.responseTimeoutSec >= minResponseSec && inv.responseTimeoutSec <= maxResponseSec)) {
      throw new IotHubError(
        'ArgumentInvalid',
        `responseTimeoutInSeconds must be ${minResponseSec}..${maxResponseSec}`,
      );
    }
    if (!(inv.connectTimeoutSec >= 0 && inv.connectTimeoutSec <= maxConnectSec)) {
      throw new IotHubError('ArgumentInvalid', `connectTimeoutInSeconds must be 0..${maxConnectSec}`);
    }
    if (Buffer.byteLength(JSON.stringify(inv.payload)) > maxPayloadBytes) {
      throw new IotHubError('MessageTooLarge', `method payload is above ${maxPayloadBytes} bytes`);
    }
  }

  /** Invokes a method; rejects with DeviceNotOnline (404) or GatewayTimeout (504) as IoT Hub does. */
  async invoke(inv: MethodInvocation): Promise<MethodResult> {
    DirectMethods.validate(inv);
    const clientKey = identityKey(inv.deviceId, inv.moduleId);
    const rid = (this.nextRid++).toString(16);
    const topic = methodRequestTopic(inv.methodName, rid);
    if (!this.clients.canReceive(clientKey, topic)) {
      const online =
        inv.connectTimeoutSec > 0 &&
        (await this.waitReachable(clientKey, topic, inv.connectTimeoutSec * 1000));
      if (!online)
        throw new IotHubError('DeviceNotOnline', `Timed out waiting for device ${clientKey} to connect.`);
    }
    return new Promise<MethodResult>((resolve, reject) => {
      const key = `${clientKey}\n${rid}`;
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(
          new IotHubError('GatewayTimeout', `Timed out waiting for the response from device ${clientKey}.`),
        );
      }, inv.responseTimeoutSec * 1000);
      this.pending.set(key, { resolve, reject, timer });
      if (!this.clients.deliver(clientKey, topic, Buffer.from(JSON.stringify(inv.payload)))) {
        clearTimeout(timer);
        this.pending.delete(key);
        reject(new IotHubError('DeviceNotOnline', `Device ${clientKey} is not online.`));
      }
    });
  }

  /** Handles `$iothub/methods/res/{status}/?$rid=` from a client; false when nothing was waiting for it. */
  onResponse(clientKey: string, rid: string, status: number, body: Buffer): boolean {
    const key = `${clientKey}\n${rid}`;
    const entry = this.pending.get(key);
    if (!entry) return false;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    entry.resolve({ status, payload: parsePayload(body) });
    return true;
  }

  private waitReachable(clientKey: string, topic: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        this.waiters.delete(cancel);
        resolve(ok);
      };
      const cancel = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      const unsubscribe = this.clients.onReachabilityChange((key) => {
        if (key === clientKey && this.clients.canReceive(clientKey, topic)) done(true);
      });
      this.waiters.add(cancel);
    });
  }

  /** Fails every pending call (hub shutdown). */
  close(): void {
    for (const cancel of [...this.waiters]) cancel();
    for (const [key, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new IotHubError('ServerError', 'the hub is shutting down'));
      this.pending.delete(key);
    }
  }
}

function parsePayload(body: Buffer): JsonValue {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
