import { connect, type MqttClient } from 'mqtt';
import { request } from 'node:https';
import { startSandboxDps, type SandboxDps } from '../../sandbox/src/dps';
import type { SandboxIotHub } from '../../sandbox/src/iothub';
import { createIotHubSasToken } from '../../sandbox/src/iothub/sas';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { createProvisioningServiceClient } from '../../sandbox/src/dps';
import { Harness } from '../support/sandbox-iothub-helpers';

const GROUP_KEY = Buffer.alloc(32, 5).toString('base64');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

// The device API at the wire level: the documented HTTP paths and MQTT topics, written by hand.
describe('sandbox DPS: device API on the wire', () => {
  const h = new Harness();
  let hub: SandboxIotHub;
  let dps: SandboxDps;

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    hub = await h.hub({ pki });
    dps = await startSandboxDps({ iotHub: hub, pki, retryAfterSeconds: 2 });
    h.defer(() => dps.stop());
    const service = createProvisioningServiceClient(dps.serviceConnectionString, { ca: dps.caPem });
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'wire',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY } },
      provisioningStatus: 'enabled',
    });
  });

  afterAll(() => h.cleanup());

  const tokenFor = (registrationId: string): string =>
    createIotHubSasToken(
      `${dps.idScope}/registrations/${registrationId}`,
      dps.deviceKey('wire', registrationId),
      Math.floor(Date.now() / 1000) + 600,
      'registration',
    );

  function call(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port: dps.port, method, path, ca: dps.caPem, servername: 'localhost' },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            }),
          );
        },
      );
      req.on('error', reject);
      if (token) req.setHeader('authorization', token);
      if (payload) req.setHeader('content-type', 'application/json');
      req.end(payload);
    });
  }

  it('answers PUT register with 202 assigning and retry-after, then the operation with 200 assigned', async () => {
    const id = 'wire-http';
    const base = `/${dps.idScope}/registrations/${id}`;
    const put = await call('PUT', `${base}/register?api-version=2019-03-31`, tokenFor(id), {
      registrationId: id,
    });
    expect(put.status).toBe(202);
    expect(put.headers['retry-after']).toBe('2');
    expect(put.body).toEqual({
      operationId: expect.stringMatching(/^\d+\.[0-9a-f]{16}\./),
      status: 'assigning',
    });
    const path = `${base}/operations/${String(put.body.operationId)}?api-version=2019-03-31`;
    let poll = await call('GET', path, tokenFor(id));
    for (let i = 0; i < 100 && poll.status === 202; i++) {
      expect(poll.body.status).toBe('assigning');
      await new Promise((r) => setTimeout(r, 20));
      poll = await call('GET', path, tokenFor(id));
    }
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({
      operationId: put.body.operationId,
      status: 'assigned',
      registrationState: {
        registrationId: id,
        deviceId: id,
        assignedHub: hub.hostName,
        status: 'assigned',
        substatus: 'initialAssignment',
        etag: expect.any(String),
        createdDateTimeUtc: expect.any(String),
        lastUpdatedDateTimeUtc: expect.any(String),
      },
    });
  });

  it('refuses bad requests with the documented statuses and DPS error body', async () => {
    const id = 'wire-errors';
    const base = `/${dps.idScope}/registrations/${id}`;
    const noToken = await call('PUT', `${base}/register?api-version=2019-03-31`);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({
      errorCode: 401000,
      trackingId: expect.any(String),
      message: 'Unauthorized',
      timestampUtc: expect.any(String),
    });
    // A token for another registration id does not open this one.
    expect(
      (await call('PUT', `${base}/register?api-version=2019-03-31`, tokenFor('someone-else'))).status,
    ).toBe(401);
    // Unknown ID scope.
    expect(
      (await call('PUT', `/0ne00000000/registrations/${id}/register?api-version=2019-03-31`, tokenFor(id)))
        .status,
    ).toBe(401);
    expect((await call('PUT', `${base}/register`, tokenFor(id))).status).toBe(400);
    expect(
      (
        await call('PUT', `${base}/register?api-version=2019-03-31`, tokenFor(id), {
          registrationId: 'other',
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('GET', `${base}/operations/4.0.none?api-version=2019-03-31`, tokenFor(id))).status,
    ).toBe(404);
    expect((await call('DELETE', `${base}/register?api-version=2019-03-31`, tokenFor(id))).status).toBe(405);
    expect((await call('GET', `/enrollments/x?api-version=2021-10-01`)).status).toBe(404);
  });

  describe('over MQTT', () => {
    const clients: MqttClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
    });

    function mqttClient(clientId: string, username: string, password: string): MqttClient {
      const c = connect(`mqtts://localhost:${dps.port}`, {
        clientId,
        username,
        password,
        ca: dps.caPem,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
      });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    }

    it('answers on $dps/registrations/res/{status}/?$rid=…&retry-after=… and completes the operation', async () => {
      const id = 'wire-mqtt';
      const c = mqttClient(id, `${dps.idScope}/registrations/${id}/api-version=2019-03-31`, tokenFor(id));
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      const granted = await new Promise<{ qos: number }[]>((resolve, reject) =>
        c.subscribe(['$dps/registrations/res/#', 'devices/#'], { qos: 1 }, (err, g) =>
          err ? reject(err) : resolve(g as { qos: number }[]),
        ),
      );
      expect(granted.map((g) => g.qos)).toEqual([1, 128]);
      const next = (): Promise<{ topic: string; body: Record<string, unknown> }> =>
        new Promise((resolve) =>
          c.once('message', (topic: string, payload: Buffer) =>
            resolve({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }),
          ),
        );
      let reply = next();
      c.publish('$dps/registrations/PUT/iotdps-register/?$rid=7', JSON.stringify({ registrationId: id }), {
        qos: 1,
      });
      const first = await reply;
      expect(first.topic).toBe('$dps/registrations/res/202/?$rid=7&retry-after=2');
      expect(first.body.status).toBe('assigning');
      let last = first;
      for (let i = 0; i < 100 && last.body.status === 'assigning'; i++) {
        reply = next();
        c.publish(
          `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${8 + i}&operationId=${String(first.body.operationId)}`,
          ' ',
          { qos: 1 },
        );
        last = await reply;
      }
      expect(last.topic).toMatch(/^\$dps\/registrations\/res\/200\/\?\$rid=\d+$/);
      expect(last.body).toMatchObject({ status: 'assigned', registrationState: { deviceId: id } });

      reply = next();
      c.publish('$dps/registrations/GET/iotdps-get-operationstatus/?$rid=99&operationId=nope', ' ', {
        qos: 1,
      });
      expect((await reply).topic).toBe('$dps/registrations/res/404/?$rid=99');
    });

    it('refuses a CONNECT whose client id is not the registration id (2) or whose username is malformed (4)', async () => {
      const codes = await Promise.all(
        [
          mqttClient('other', `${dps.idScope}/registrations/wire-x/api-version=2019-03-31`, 'x'),
          mqttClient('wire-x', 'not-a-dps-username', 'x'),
        ].map(
          (c) =>
            new Promise<number | undefined>((resolve) =>
              c.once('error', (err: Error & { code?: number }) => resolve(err.code)),
            ),
        ),
      );
      expect(codes).toEqual([2, 4]);
    });
  });
});
