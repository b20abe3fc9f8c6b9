import Aedes, { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { Duplex } from 'node:stream';
import { DeviceAuthFailure, DeviceAuthSuccess, HubAuthenticator } from '../auth';
import { identityKey } from '../identity';
import { HubLogger } from '../logger';
import { ClientDirectory } from '../methods';
import { Registry, RegistryEvent } from '../registry';
import { DeviceRequestContext, handleDevicePublish } from './device-requests';
import { SessionStore } from './sessions';
import { allowedFilters, desiredPatchTopic } from './topics';

interface Connection {
  client: Client;
  auth: DeviceAuthSuccess;
  expiryTimer?: NodeJS.Timeout;
}

// CONNACK return codes: 2 identifier rejected, 4 bad username or password, 5 not authorized.
const RETURN_CODE: Record<DeviceAuthFailure, 2 | 4 | 5> = {
  'bad-client-id': 2,
  'bad-username': 4,
  'bad-token': 4,
  expired: 5,
  'unknown-identity': 5,
  disabled: 5,
  'bad-signature': 5,
};

/**
 * The device side of the sandbox hub: an aedes MQTT 3.1.1 broker whose routing is switched off. Clients never
 * reach each other; every message to a client (twin responses, desired patches, method requests) is
 * addressed to that one client, so a device and its modules never see each other's replies.
 */
export class MqttFront implements ClientDirectory {
  private readonly broker: Aedes;
  private readonly connections = new Map<string, Connection>();
  private readonly authByClient = new WeakMap<Client, DeviceAuthSuccess>();
  // Payload buffers of messages the hub addressed itself; anything else is never forwarded.
  private readonly addressed = new WeakSet<Buffer>();
  private readonly reachability = new Set<(clientKey: string) => void>();
  private readonly unsubscribeRegistry: () => void;

  constructor(
    private readonly auth: HubAuthenticator,
    private readonly registry: Registry,
    private readonly sessions: SessionStore,
    private readonly requests: DeviceRequestContext,
    private readonly log: HubLogger,
  ) {
    this.broker = new Aedes({
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
      authorizeForward: (_client, packet) => (this.addressed.has(packet.payload as Buffer) ? packet : null),
    });
    this.broker.on('clientReady', (client) => this.onReady(client));
    this.broker.on('clientDisconnect', (client) => this.onGone(client));
    this.broker.on('subscribe', (subs, client) => this.onSubscribed(subs, client));
    this.broker.on('unsubscribe', (filters, client) => {
      for (const f of filters) this.sessions.remove(client.id, f);
    });
    this.broker.on('clientError', (client, err) =>
      this.log.debug({ client: client.id, err: err.message }, 'mqtt client error'),
    );
    this.unsubscribeRegistry = registry.on((event) => this.onRegistryEvent(event));
  }

  /** Serves one decrypted connection (the TLS listener hands over sockets that start with an MQTT CONNECT). */
  handle(stream: Duplex): void {
    this.broker.handle(stream);
  }

  /** Number of connected clients. */
  get connectedCount(): number {
    return this.connections.size;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const result = this.auth.authenticateDevice(client.id, username, password?.toString('utf8'));
    if ('failure' in result) {
      this.log.info({ client: client.id, reason: result.failure }, 'mqtt connect refused');
      const err = new Error(`connection refused: ${result.failure}`) as AuthenticateError;
      err.returnCode = RETURN_CODE[result.failure] as AuthenticateError['returnCode'];
      done(err, false);
      return;
    }
    this.authByClient.set(client, result);
    if (client.clean) this.sessions.reset(client.id);
    done(null, true);
  }

  private onReady(client: Client): void {
    const auth = this.authByClient.get(client);
    if (!auth) return;
    const previous = this.connections.get(client.id);
    if (previous?.expiryTimer) clearTimeout(previous.expiryTimer);
    const conn: Connection = { client, auth };
    // IoT Hub closes a connection when its SAS token expires; the SDKs reconnect with a fresh token before that.
    const msLeft = auth.expirySec * 1000 - Date.now();
    if (msLeft < 2 ** 31 - 1) {
      conn.expiryTimer = setTimeout(() => client.close(), Math.max(msLeft, 0));
      conn.expiryTimer.unref();
    }
    this.connections.set(client.id, conn);
    this.registry.setConnectionState(auth.deviceId, auth.moduleId, true);
    this.log.info({ client: client.id }, 'mqtt client connected');
    this.notifyReachability(client.id);
  }

  private onGone(client: Client): void {
    const conn = this.connections.get(client.id);
    if (!conn || conn.client !== client) return;
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    this.connections.delete(client.id);
    if (client.clean) this.sessions.reset(client.id);
    this.registry.setConnectionState(conn.auth.deviceId, conn.auth.moduleId, false);
    this.log.info({ client: client.id }, 'mqtt client disconnected');
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const auth = this.authByClient.get(client);
    if (!auth || !allowedFilters(auth.deviceId, auth.moduleId).includes(sub.topic)) {
      this.log.info({ client: client.id, filter: sub.topic }, 'mqtt subscription refused');
      return null;
    }
    // IoT Hub supports QoS 0 and 1 only.
    return { ...sub, qos: sub.qos > 1 ? 1 : sub.qos };
  }

  private onSubscribed(subs: Subscription[], client: Client): void {
    // Refused filters come through with granted QoS 128.
    for (const s of subs) if (s.qos <= 1) this.sessions.add(client.id, s.topic);
    this.notifyReachability(client.id);
  }

  private onPublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const auth = client ? this.authByClient.get(client) : undefined;
    if (!client || !auth) {
      done(new Error('publish from an unauthenticated client'));
      return;
    }
    let outcome;
    try {
      outcome = handleDevicePublish(this.requests, auth, packet.topic, toBuffer(packet.payload));
    } catch (err) {
      outcome = { kind: 'refused' as const, reason: (err as Error).message };
    }
    if (outcome.kind === 'refused') {
      this.log.info(
        { client: client.id, topic: packet.topic, reason: outcome.reason },
        'mqtt publish refused',
      );
      done(new Error(outcome.reason));
      return;
    }
    if (outcome.reply) this.sendTo(client, outcome.reply.topic, outcome.reply.payload);
    done(null);
  }

  private sendTo(client: Client, topic: string, payload: Buffer): boolean {
    if (!this.sessions.matches(client.id, topic)) return false;
    this.addressed.add(payload);
    client.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, (err) => {
      if (err) this.log.debug({ client: client.id, err: err.message }, 'mqtt delivery failed');
    });
    return true;
  }

  /** Publishes to one connected client when it subscribed to a matching filter. */
  deliver(clientKey: string, topic: string, payload: Buffer): boolean {
    const conn = this.connections.get(clientKey);
    return conn ? this.sendTo(conn.client, topic, payload) : false;
  }

  /** True when the client is connected and subscribed to a filter matching `topic`. */
  canReceive(clientKey: string, topic: string): boolean {
    return this.connections.has(clientKey) && this.sessions.matches(clientKey, topic);
  }

  /** Calls `listener` when a client connects or subscribes. */
  onReachabilityChange(listener: (clientKey: string) => void): () => void {
    this.reachability.add(listener);
    return () => this.reachability.delete(listener);
  }

  private notifyReachability(clientKey: string): void {
    for (const l of [...this.reachability]) l(clientKey);
  }

  private onRegistryEvent(event: RegistryEvent): void {
    if (event.type === 'desired') {
      const key = identityKey(event.identity.deviceId, event.identity.moduleId);
      this.deliver(
        key,
        desiredPatchTopic(event.change.version),
        Buffer.from(JSON.stringify(event.change.pushPatch)),
      );
    } else if (event.type === 'identityDeleted') {
      const key = identityKey(event.deviceId, event.moduleId);
      this.sessions.reset(key);
      this.connections.get(key)?.client.close();
    } else if (event.type === 'identityUpdated' && event.identity.status === 'disabled') {
      this.connections.get(identityKey(event.identity.deviceId, event.identity.moduleId))?.client.close();
    }
  }

  /** Disconnects every client and closes the broker. */
  close(): Promise<void> {
    this.unsubscribeRegistry();
    for (const conn of this.connections.values()) if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    return new Promise((resolve) => this.broker.close(() => resolve()));
  }
}

function toBuffer(payload: PublishPacket['payload']): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}
