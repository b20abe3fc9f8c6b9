// The sandbox relay's Microsoft Entra ID path at the wire level: raw `ws` clients present tokens minted by the
// sandbox issuer (as the identity endpoint would hand them to @azure/identity) and the relay answers with the
// documented statuses: 401 for a token it cannot trust, 403 for a valid token without the role.
import WebSocket from 'ws';
import {
  createSandboxEntraIssuer,
  type SandboxEntraIssuer,
  type SandboxIdentity,
} from '../../sandbox/src/entra';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { trustEntraIssuer } from '../../sandbox/src/relay/entra-auth';
import {
  closed,
  handshakeFailure,
  hcUrl,
  openWs,
  RawListener,
  terminateAll,
  tokenFor,
  waitUntil,
} from '../support/sandbox-relay-raw-clients';

const LISTENER: SandboxIdentity = {
  clientId: 'forwarder-mi',
  roles: [{ role: 'Azure Relay Listener', entity: 'site-a' }],
};
const SENDER: SandboxIdentity = { clientId: 'gateway-mi', roles: [{ role: 'Azure Relay Sender' }] };
const OWNER: SandboxIdentity = {
  clientId: 'owner-mi',
  roles: [{ role: 'Azure Relay Owner', entity: 'site-b' }],
};

describe('sandbox relay: Microsoft Entra ID bearer tokens', () => {
  let relay: SandboxRelay;
  let issuer: SandboxEntraIssuer;
  const listeners: RawListener[] = [];
  const sockets: Array<WebSocket | undefined> = [];

  const fail = (
    path: string,
    action: 'listen' | 'connect',
    token: string,
    header = 'ServiceBusAuthorization',
  ) => handshakeFailure(hcUrl(relay, path, action), { ca: relay.caPem, headers: { [header]: token } });
  const listen = async (path: string, token: string): Promise<RawListener> => {
    const l = await RawListener.open(relay, path, token);
    listeners.push(l);
    return l;
  };

  beforeAll(async () => {
    relay = await startSandboxRelay({ hybridConnections: ['site-a', 'site-b'] });
    issuer = createSandboxEntraIssuer({ identities: [LISTENER, SENDER, OWNER] });
    trustEntraIssuer(relay.registry, { trust: issuer.trust });
  });

  afterEach(async () => {
    terminateAll(sockets.splice(0));
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    trustEntraIssuer(relay.registry, { trust: issuer.trust });
  });

  afterAll(() => relay.stop());

  it('lets a listener role listen and a sender role connect, with the bare JWT in ServiceBusAuthorization', async () => {
    const listener = await listen('site-a', issuer.mint(LISTENER).token);
    const sender = openWs(hcUrl(relay, 'site-a', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: issuer.mint(SENDER).token },
    });
    const accept = await listener.nextAccept();
    const rendezvous = await openWs(accept.accept.address, { ca: relay.caPem });
    const ws = await sender;
    sockets.push(rendezvous, ws);
    const got = new Promise<string>((resolve) => rendezvous.once('message', (d) => resolve(d.toString())));
    ws.send('through with Entra ID');
    expect(await got).toBe('through with Entra ID');
  });

  it('accepts "Bearer <jwt>" in ServiceBusAuthorization and the bare JWT in sb-hc-token', async () => {
    const token = issuer.mint(LISTENER).token;
    await listen('site-a', `Bearer ${token}`);
    const viaQuery = await openWs(hcUrl(relay, 'site-a', 'listen', { 'sb-hc-token': token }), {
      ca: relay.caPem,
    });
    sockets.push(viaQuery);
    expect(relay.stats().listenersByPath['site-a']).toBe(2);
  });

  it('answers 401 for a wrong audience, an expired token, a bad signature or another issuer', async () => {
    const wrongAudience = issuer.mint(LISTENER, { audience: 'https://management.azure.com' }).token;
    const expired = issuer.mint(LISTENER, { nowMs: Date.now() - 2 * 3600_000 }).token;
    const otherTenant = createSandboxEntraIssuer({ tenantId: issuer.tenantId }).mint(LISTENER).token;
    const good = issuer.mint(LISTENER).token;
    const [head, body] = good.split('.');
    const tampered = `${head}.${Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body!, 'base64url').toString()),
        roles: ['Azure Relay Owner'],
      }),
    ).toString('base64url')}.${good.split('.')[2]}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${body}.`;

    const wa = await fail('site-a', 'listen', wrongAudience);
    expect(wa).toMatchObject({ status: 401 });
    expect(wa.statusMessage).toMatch(/InvalidAudience/);
    const ex = await fail('site-a', 'listen', expired);
    expect(ex).toMatchObject({ status: 401 });
    expect(ex.statusMessage).toMatch(/ExpiredToken/);
    for (const bad of [otherTenant, tampered, unsigned]) {
      const f = await fail('site-a', 'listen', bad);
      expect(f).toMatchObject({ status: 401 });
      expect(f.statusMessage).toMatch(/InvalidSignature/);
    }
    expect((await fail('site-a', 'connect', `Bearer ${expired}`)).status).toBe(401);
  });

  it('answers 403 for a valid token whose roles do not grant the right on this hybrid connection', async () => {
    // Listener role used to send, sender role used to listen, an entity-scoped role on another entity.
    const senderAsListener = await fail('site-a', 'listen', issuer.mint(SENDER).token);
    expect(senderAsListener.status).toBe(403);
    expect(senderAsListener.statusMessage).toMatch(
      /no role assignment granting Listen on hybrid connection "site-a"/,
    );
    expect((await fail('site-a', 'connect', issuer.mint(LISTENER).token)).status).toBe(403);
    expect((await fail('site-b', 'listen', issuer.mint(LISTENER).token)).status).toBe(403);
    expect((await fail('site-a', 'listen', issuer.mint(LISTENER, { roles: [] }).token)).status).toBe(403);
    // Owner on site-b grants Listen and Send there, and nothing on site-a.
    await listen('site-b', issuer.mint(OWNER).token);
    expect((await fail('site-a', 'listen', issuer.mint(OWNER).token)).status).toBe(403);
  });

  it('refuses bearer tokens when no issuer is trusted, and SAS when local auth is disabled', async () => {
    const keys = relay.createAuthorizationRule('site-a', 'listen-a', ['Listen']);
    const sas = tokenFor(relay, 'site-a', keys.keyName, keys.primaryKey);
    trustEntraIssuer(relay.registry, { trust: issuer.trust, disableLocalAuth: true });
    const refused = await fail('site-a', 'listen', sas);
    expect(refused.status).toBe(401);
    expect(refused.statusMessage).toMatch(/LocalAuthDisabled/);
    await listen('site-a', issuer.mint(LISTENER).token);

    const other = await startSandboxRelay({ hybridConnections: ['site-a'] });
    try {
      const untrusted = await handshakeFailure(hcUrl(other, 'site-a', 'listen'), {
        ca: other.caPem,
        headers: { ServiceBusAuthorization: issuer.mint(LISTENER).token },
      });
      expect(untrusted.status).toBe(401);
    } finally {
      await other.stop();
    }
  });

  it('takes a renewed JWT on a live control channel and closes it (1008) for a renewal without the role', async () => {
    const listener = await listen('site-a', issuer.mint(LISTENER, { lifetimeMs: 60_000 }).token);
    const renewalsBefore = relay.stats().counters.tokenRenewals;
    listener.control.send(JSON.stringify({ renewToken: { token: issuer.mint(LISTENER).token } }));
    await waitUntil(
      () => relay.stats().counters.tokenRenewals === renewalsBefore + 1,
      'the renewal to be taken',
    );
    expect(listener.control.readyState).toBe(WebSocket.OPEN);

    const closing = closed(listener.control);
    listener.control.send(JSON.stringify({ renewToken: { token: issuer.mint(SENDER).token } }));
    const { code, reason } = await closing;
    expect(code).toBe(1008);
    expect(reason).toMatch(/Token renewal failed: Unauthorized/);
  });
});
