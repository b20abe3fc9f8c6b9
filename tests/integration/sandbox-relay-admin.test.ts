import { request } from 'node:https';
import WebSocket from 'ws';
import { SandboxRelayAdminClient, startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { closed, handshakeFailure, hcUrl, RawListener, tokenFor } from '../support/sandbox-relay-raw-clients';

/** A raw HTTPS request to the relay; resolves with status and parsed JSON body. */
function call(
  relay: SandboxRelay,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: relay.port, method, path, ca: relay.caPem, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('sandbox relay: admin API', () => {
  let relay: SandboxRelay;
  let admin: SandboxRelayAdminClient;

  beforeAll(async () => {
    relay = await startSandboxRelay();
    admin = SandboxRelayAdminClient.fromConnectionString(relay.rootKeys.primaryConnectionString, relay.caPem);
  });

  afterAll(() => relay.stop());

  it('answers health without a token', async () => {
    expect(await admin.health()).toEqual({ status: 'ok', namespace: relay.namespace });
  });

  it('refuses requests without a valid token (401) or without Manage on the namespace (403)', async () => {
    expect((await call(relay, 'GET', '/$sandbox/stats')).status).toBe(401);
    const forged = tokenFor(relay, undefined, 'RootManageSharedAccessKey', 'not-the-key');
    expect((await call(relay, 'GET', '/$sandbox/stats', { ServiceBusAuthorization: forged })).status).toBe(
      401,
    );

    const sendAll = relay.createAuthorizationRule(undefined, 'send-only', ['Send']);
    const sendToken = tokenFor(relay, undefined, sendAll.keyName, sendAll.primaryKey);
    const noManage = await call(relay, 'GET', '/$sandbox/stats', { ServiceBusAuthorization: sendToken });
    expect(noManage.status).toBe(403);
    expect(noManage.body).toMatchObject({ error: { code: 'SANDBOX_RELAY_FORBIDDEN' } });

    relay.createHybridConnection('scoped');
    const entityManage = relay.createAuthorizationRule('scoped', 'scoped-manage', [
      'Manage',
      'Listen',
      'Send',
    ]);
    const entityToken = tokenFor(relay, 'scoped', entityManage.keyName, entityManage.primaryKey);
    expect(
      (await call(relay, 'GET', '/$sandbox/stats', { ServiceBusAuthorization: entityToken })).status,
    ).toBe(401);

    const ok = await call(relay, 'GET', '/$sandbox/stats', { Authorization: relay.manageToken() });
    expect(ok.status).toBe(200);
  });

  it('answers 404 for unknown routes, 400 for bad bodies and for /$hc/ without an upgrade', async () => {
    const auth = { ServiceBusAuthorization: relay.manageToken() };
    expect((await call(relay, 'GET', '/$sandbox/nothing-here', auth)).status).toBe(404);
    expect((await call(relay, 'GET', '/elsewhere')).status).toBe(404);
    expect((await call(relay, 'GET', '/$hc/x?sb-hc-action=listen')).status).toBe(400);
    const badJson = await call(relay, 'PUT', '/$sandbox/hybridConnections/x', auth, '{not json');
    expect(badJson.status).toBe(400);
    const badRights = await call(
      relay,
      'PUT',
      '/$sandbox/authorizationRules/r',
      auth,
      JSON.stringify({ rights: ['Fly'] }),
    );
    expect(badRights.status).toBe(400);
    expect((await call(relay, 'GET', '/$sandbox/hybridConnections/missing', auth)).status).toBe(404);
  });

  it('manages hybrid connections, rules and keys that the data plane then honours', async () => {
    const hc = await admin.createHybridConnection('site-a/db', { requiresClientAuthorization: true });
    expect(hc).toMatchObject({ name: 'site-a/db', requiresClientAuthorization: true, listenerCount: 0 });
    expect((await admin.listHybridConnections()).map((h) => h.name)).toContain('site-a/db');

    const keys = await admin.createAuthorizationRule('site-a/db', 'forwarder', ['Listen']);
    expect(keys.primaryConnectionString).toBe(
      `Endpoint=sb://${relay.namespace}/;SharedAccessKeyName=forwarder;SharedAccessKey=${keys.primaryKey};EntityPath=site-a/db`,
    );
    expect(await admin.listAuthorizationRules('site-a/db')).toEqual([
      { name: 'forwarder', rights: ['Listen'] },
    ]);
    expect((await admin.listKeys('site-a/db', 'forwarder')).secondaryKey).toBe(keys.secondaryKey);

    const listener = await RawListener.open(
      relay,
      'site-a/db',
      tokenFor(relay, 'site-a/db', 'forwarder', keys.primaryKey),
    );
    expect((await admin.getHybridConnection('site-a/db')).listenerCount).toBe(1);
    expect((await admin.stats()).listenersByPath['site-a/db']).toBe(1);

    const rotated = await admin.regenerateKey('site-a/db', 'forwarder', 'PrimaryKey');
    expect(rotated.primaryKey).not.toBe(keys.primaryKey);
    expect(rotated.secondaryKey).toBe(keys.secondaryKey);
    const oldToken = tokenFor(relay, 'site-a/db', 'forwarder', keys.primaryKey);
    const refused = await handshakeFailure(hcUrl(relay, 'site-a/db', 'listen'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: oldToken },
    });
    expect(refused.status).toBe(401);

    const dropped = closed(listener.control);
    expect(await admin.dropListeners('site-a/db', 4000, 'test drop')).toBe(1);
    expect(await dropped).toEqual({ code: 4000, reason: 'test drop' });

    expect(await admin.deleteAuthorizationRule('site-a/db', 'forwarder')).toBe(true);
    expect(await admin.deleteHybridConnection('site-a/db')).toBe(true);
    expect(await admin.deleteHybridConnection('site-a/db')).toBe(false);
    await expect(admin.getHybridConnection('site-a/db')).rejects.toMatchObject({
      code: 'SANDBOX_RELAY_NOT_FOUND',
      status: 404,
    });
  });

  it('manages namespace-level rules and refuses a 13th rule in one scope', async () => {
    const keys = await admin.createAuthorizationRule(undefined, 'ns-listen', ['Listen']);
    expect(keys.primaryConnectionString).not.toContain('EntityPath');
    const existing = (await admin.listAuthorizationRules(undefined)).length;
    for (let i = existing; i < 12; i++)
      await admin.createAuthorizationRule(undefined, `filler-${i}`, ['Send']);
    await expect(admin.createAuthorizationRule(undefined, 'one-too-many', ['Send'])).rejects.toMatchObject({
      code: 'SANDBOX_RELAY_QUOTA',
    });
  });

  it('reports connection refusals in stats', async () => {
    await handshakeFailure(hcUrl(relay, 'nowhere', 'connect'), { ca: relay.caPem });
    const stats = await admin.stats();
    expect(stats.counters.refusedByStatus['connect:404']).toBeGreaterThanOrEqual(1);
    expect(stats.activeTunnels).toBe(0);
  });

  it('keeps entities and keys across a restart on the same port', async () => {
    const first = await startSandboxRelay({ hybridConnections: ['kept'] });
    const keys = first.createAuthorizationRule('kept', 'l', ['Listen']);
    const token = tokenFor(first, 'kept', 'l', keys.primaryKey);
    const listener = await RawListener.open(first, 'kept', token);
    const dropped = closed(listener.control);
    await first.stop();
    expect((await dropped).code).toBe(1006);

    const second = await startSandboxRelay({ port: first.port, registry: first.registry, pki: first.pki });
    try {
      expect(second.namespace).toBe(first.namespace);
      expect(second.caPem).toBe(first.caPem);
      // The first relay's handle: same namespace, same CA, so a client configured for it reconnects as is.
      const again = await RawListener.open(first, 'kept', token);
      expect(again.control.readyState).toBe(WebSocket.OPEN);
      await again.close();
    } finally {
      await second.stop();
    }
  });
});
