import Aedes, { type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Duplex } from 'node:stream';
import { DpsError, toDpsError } from './errors';
import type { OperationReply, RegistrationService } from './registration-service';
import type { DpsLogger } from './logger';

/** The only filter a provisioning client subscribes to. */
export const RESPONSE_FILTER = '$dps/registrations/res/#';

const REGISTER = /^\$dps\/registrations\/PUT\/iotdps-register\/\?(.*)$/;
const STATUS = /^\$dps\/registrations\/GET\/iotdps-get-operationstatus\/\?(.*)$/;
// `{idScope}/registrations/{registrationId}/api-version={v}[&ClientVersion=…]`
const USERNAME = /^([^/]+)\/registrations\/([^/]+)\/api-version=[^&]+(&.*)?$/;

interface Session {
  idScope: string;
  registrationId: string;
  token: string;
}

/**
 * The MQTT side of the sandbox DPS (aedes, routing switched off): `$dps/registrations/PUT/iotdps-register`
 * and `…/GET/iotdps-get-operationstatus` requests, answered on `$dps/registrations/res/{status}/?$rid=…`
 * (`&retry-after=…` while assigning). Like the service, CONNECT only checks the shape of the client id and
 * username; the token is judged per request, so a wrong key gets `res/401` rather than a refused CONNECT.
 */
export class MqttFront {
  private readonly broker: Aedes;
  private readonly sessions = new WeakMap<Client, Session>();
  // Payload buffers the service addressed itself; nothing else is ever forwarded.
  private readonly addressed = new WeakSet<Buffer>();

  constructor(
    private readonly registration: RegistrationService,
    private readonly log: DpsLogger,
  ) {
    this.broker = new Aedes({
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
      authorizeForward: (_client, packet) => (this.addressed.has(packet.payload as Buffer) ? packet : null),
    });
    this.broker.on('clientError', (client, err) =>
      this.log.debug({ client: client.id, err: err.message }, 'mqtt client error'),
    );
  }

  /** Serves one decrypted connection that starts with an MQTT CONNECT. */
  handle(stream: Duplex): void {
    this.broker.handle(stream);
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const m = USERNAME.exec(username ?? '');
    const refuse = (returnCode: 2 | 4, reason: string): void => {
      this.log.info({ client: client.id, reason }, 'mqtt connect refused');
      const err = new Error(reason) as AuthenticateError;
      err.returnCode = returnCode;
      done(err, false);
    };
    if (!m) return refuse(4, 'username is not {idScope}/registrations/{registrationId}/api-version=…');
    let registrationId: string;
    try {
      registrationId = decodeURIComponent(m[2] ?? '');
    } catch {
      return refuse(4, 'malformed registration id in the username');
    }
    if (client.id !== registrationId) return refuse(2, 'client id must be the registration id');
    if (!password || password.length === 0) return refuse(4, 'a SAS token password is required');
    this.sessions.set(client, { idScope: m[1] ?? '', registrationId, token: password.toString('utf8') });
    done(null, true);
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    if (!this.sessions.has(client) || sub.topic !== RESPONSE_FILTER) {
      this.log.info({ client: client.id, filter: sub.topic }, 'mqtt subscription refused');
      return null;
    }
    return { ...sub, qos: sub.qos > 1 ? 1 : sub.qos };
  }

  private onPublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const session = client ? this.sessions.get(client) : undefined;
    if (!client || !session) return done(new Error('publish from an unauthenticated client'));
    const register = REGISTER.exec(packet.topic);
    const status = register ? undefined : STATUS.exec(packet.topic);
    if (!register && !status) {
      this.log.info({ client: client.id, topic: packet.topic }, 'mqtt publish to an unknown topic; closing');
      return done(new Error('unknown topic'));
    }
    const query = new URLSearchParams((register ?? status)?.[1] ?? '');
    const rid = query.get('$rid') ?? '';
    done(null);
    const request = {
      idScope: session.idScope,
      registrationId: session.registrationId,
      token: session.token,
    };
    try {
      const reply = register
        ? this.registration.register(request, parseBody(packet.payload))
        : this.registration.operationStatus(request, query.get('operationId') ?? '');
      this.reply(client, reply.status, rid, reply.body, reply);
    } catch (err) {
      const e = toDpsError(err);
      this.log.info({ client: client.id, status: e.status }, 'mqtt request refused');
      this.reply(client, e.status, rid, e.toBody());
    }
  }

  private reply(client: Client, status: number, rid: string, body: unknown, op?: OperationReply): void {
    const retry = op?.retryAfterSeconds !== undefined ? `&retry-after=${op.retryAfterSeconds}` : '';
    const payload = Buffer.from(JSON.stringify(body));
    this.addressed.add(payload);
    const topic = `$dps/registrations/res/${status}/?$rid=${encodeURIComponent(rid)}${retry}`;
    client.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, (err) => {
      if (err) this.log.debug({ client: client.id, err: err.message }, 'mqtt delivery failed');
    });
  }

  /** Disconnects every client and closes the broker. */
  close(): Promise<void> {
    return new Promise((resolve) => this.broker.close(() => resolve()));
  }
}

/** The register body (`{registrationId, payload?}`); malformed JSON is a 400. */
function parseBody(payload: PublishPacket['payload']): unknown {
  const text = (Buffer.isBuffer(payload) ? payload : Buffer.from(payload)).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DpsError('BadRequest', 'the request body is not valid JSON');
  }
}
