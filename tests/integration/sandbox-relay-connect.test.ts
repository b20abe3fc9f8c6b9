import WebSocket from 'ws';
import { startSandboxRelay, type AccessKeys, type SandboxRelay } from '../../sandbox/src/relay';
import {
  handshakeFailure,
  hcUrl,
  openWs,
  RawListener,
  terminateAll,
  tokenFor,
  waitUntil,
} from '../support/sandbox-relay-raw-clients';

describe('sandbox relay: sender connect, accept and reject', () => {
  let relay: SandboxRelay;
  let listenKeys: AccessKeys;
  let sendKeys: AccessKeys;
  const sockets: Array<WebSocket | undefined> = [];
  const listeners: RawListener[] = [];

  const listenToken = (path = 'hc1'): string =>
    tokenFor(relay, path, listenKeys.keyName, listenKeys.primaryKey);
  const sendToken = (path = 'hc1'): string => tokenFor(relay, path, sendKeys.keyName, sendKeys.primaryKey);
  const listen = async (path = 'hc1', token = listenToken(path)): Promise<RawListener> => {
    const l = await RawListener.open(relay, path, token);
    listeners.push(l);
    return l;
  };
  const connect = (
    path: string,
    headers: Record<string, string> = {},
    extra: Record<string, string> = {},
    protocols?: string[],
  ) =>
    openWs(hcUrl(relay, path, 'connect', extra), { ca: relay.caPem, headers, protocols }).then((ws) => {
      sockets.push(ws);
      return ws;
    });

  beforeAll(async () => {
    relay = await startSandboxRelay({
      acceptTimeoutMs: 1000,
      hybridConnections: ['hc1', 'hc2', { name: 'open', requiresClientAuthorization: false }],
    });
    listenKeys = relay.createAuthorizationRule(undefined, 'listen-all', ['Listen']);
    sendKeys = relay.createAuthorizationRule(undefined, 'send-all', ['Send']);
  });

  afterEach(async () => {
    terminateAll(sockets.splice(0));
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  afterAll(() => relay.stop());

  it('joins sender and listener through the accept address and passes the sender headers on', async () => {
    const listener = await listen();
    const senderP = connect(
      'hc1/suffix/x',
      { ServiceBusAuthorization: sendToken(), 'X-Custom': 'hello' },
      { 'sb-hc-id': 'conn-42', app: 'v' },
    );
    const { accept } = await listener.nextAccept();
    expect(accept.id).toBe('conn-42');
    const address = new URL(accept.address);
    expect(address.protocol).toBe('wss:');
    expect(address.host).toBe(relay.namespace);
    expect(address.pathname).toBe('/$hc/hc1/suffix/x');
    expect(address.searchParams.get('sb-hc-action')).toBe('accept');
    expect(address.searchParams.get('sb-hc-id')).toBe('conn-42');
    expect(address.searchParams.get('app')).toBe('v');
    expect(address.searchParams.get('sb-hc-token')).toBeNull();
    expect(accept.connectHeaders['X-Custom']).toBe('hello');
    expect(accept.connectHeaders['Sec-WebSocket-Key']).toMatch(/==$/);
    expect(Object.keys(accept.connectHeaders).map((h) => h.toLowerCase())).not.toContain(
      'servicebusauthorization',
    );
    expect(accept.remoteEndpoint.address).toBe('127.0.0.1');
    expect(accept.remoteEndpoint.port).toBeGreaterThan(0);

    const rendezvous = await openWs(accept.address, { ca: relay.caPem });
    sockets.push(rendezvous);
    const sender = await senderP;
    const fromListener = new Promise<string>((r) => sender.once('message', (d) => r(d.toString())));
    const fromSender = new Promise<string>((r) => rendezvous.once('message', (d) => r(d.toString())));
    sender.send('ping from sender');
    rendezvous.send('pong from listener');
    expect(await fromSender).toBe('ping from sender');
    expect(await fromListener).toBe('pong from listener');
    expect(relay.stats().activeTunnels).toBe(1);
  });

  const fail = (path: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}) =>
    handshakeFailure(hcUrl(relay, path, 'connect', extra), { ca: relay.caPem, headers });

  it('answers 404 for an unknown hybrid connection and for one without listeners', async () => {
    const unknown = await fail('nope', { ServiceBusAuthorization: sendToken('nope') });
    expect(unknown.status).toBe(404);
    expect(unknown.statusMessage).toMatch(/TrackingId:/);
    const noListener = await fail('hc2', { ServiceBusAuthorization: sendToken('hc2') });
    expect(noListener.status).toBe(404);
    expect(noListener.statusMessage).toMatch(/no listeners/);
  });

  it('answers 401 for a missing, malformed, wrongly signed or expired token', async () => {
    await listen();
    expect((await fail('hc1')).status).toBe(401);
    expect((await fail('hc1', { ServiceBusAuthorization: 'SharedAccessSignature sr=x' })).status).toBe(401);
    const wrongKey = tokenFor(relay, 'hc1', sendKeys.keyName, listenKeys.primaryKey);
    expect((await fail('hc1', { ServiceBusAuthorization: wrongKey })).status).toBe(401);
    const unknownRule = tokenFor(relay, 'hc1', 'no-such-rule', sendKeys.primaryKey);
    expect((await fail('hc1', { ServiceBusAuthorization: unknownRule })).status).toBe(401);
    const expired = tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey, -5000);
    const failure = await fail('hc1', { ServiceBusAuthorization: expired });
    expect(failure.status).toBe(401);
    expect(failure.statusMessage).toMatch(/ExpiredToken/);
  });

  it('answers 403 for a valid token without Send or for another path', async () => {
    await listen();
    expect((await fail('hc1', { ServiceBusAuthorization: listenToken('hc1') })).status).toBe(403);
    const otherPath = await fail('hc1', { ServiceBusAuthorization: sendToken('hc2') });
    expect(otherPath.status).toBe(403);
    expect(otherPath.statusMessage).toMatch(/not valid for this path/);
  });

  it('limits an entity-level rule to its own hybrid connection', async () => {
    const entityKeys = relay.createAuthorizationRule('hc2', 'hc2-send', ['Send']);
    expect(entityKeys.primaryConnectionString).toContain('EntityPath=hc2');
    await listen();
    const forHc1 = tokenFor(relay, 'hc1', entityKeys.keyName, entityKeys.primaryKey);
    expect((await fail('hc1', { ServiceBusAuthorization: forHc1 })).status).toBe(401);
    const forNamespace = tokenFor(relay, undefined, entityKeys.keyName, entityKeys.primaryKey);
    expect((await fail('hc1', { ServiceBusAuthorization: forNamespace })).status).toBe(401);
  });

  it('accepts the token in the sb-hc-token query parameter and the secondary key', async () => {
    const listener = await listen();
    const token = tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.secondaryKey);
    const senderP = connect('hc1', {}, { 'sb-hc-token': token });
    const { accept } = await listener.nextAccept();
    expect(accept.address).not.toContain(encodeURIComponent(token));
    sockets.push(await openWs(accept.address, { ca: relay.caPem }));
    await senderP;
  });

  it('lets anonymous senders in when the hybrid connection does not require client authorization', async () => {
    const listener = await listen('open');
    const senderP = connect('open');
    sockets.push(await openWs((await listener.nextAccept()).accept.address, { ca: relay.caPem }));
    await senderP;
  });

  it('passes a listener rejection to the sender and answers the listener 410', async () => {
    const listener = await listen();
    const senderFailure = fail('hc1', { ServiceBusAuthorization: sendToken() });
    const { accept } = await listener.nextAccept();
    const reject = `${accept.address}&sb-hc-statusCode=409&sb-hc-statusDescription=${encodeURIComponent('Service busy today')}`;
    const listenerAnswer = await handshakeFailure(reject, { ca: relay.caPem });
    expect(listenerAnswer.status).toBe(410);
    expect(await senderFailure).toEqual({ status: 409, statusMessage: 'Service busy today' });
    expect((await handshakeFailure(accept.address, { ca: relay.caPem })).status).toBe(403);
  });

  it('refuses a reject with an invalid status code (400) and still lets the address be used', async () => {
    const listener = await listen();
    const senderP = connect('hc1', { ServiceBusAuthorization: sendToken() });
    const { accept } = await listener.nextAccept();
    const bad = await handshakeFailure(`${accept.address}&sb-hc-statusCode=200&sb-hc-statusDescription=ok`, {
      ca: relay.caPem,
    });
    expect(bad.status).toBe(400);
    sockets.push(await openWs(accept.address, { ca: relay.caPem }));
    await senderP;
  });

  it('answers the sender 504 when the accept window closes and invalidates the address', async () => {
    const listener = await listen();
    const senderFailure = fail('hc1', { ServiceBusAuthorization: sendToken() });
    const { accept } = await listener.nextAccept();
    const answer = await senderFailure;
    expect(answer.status).toBe(504);
    expect(answer.statusMessage).toMatch(/did not accept/);
    expect((await handshakeFailure(accept.address, { ca: relay.caPem })).status).toBe(403);
    expect(relay.stats().counters.acceptTimeouts).toBeGreaterThanOrEqual(1);
  });

  it('lets an accept address be used once', async () => {
    const listener = await listen();
    const senderP = connect('hc1', { ServiceBusAuthorization: sendToken() });
    const { accept } = await listener.nextAccept();
    sockets.push(await openWs(accept.address, { ca: relay.caPem }));
    await senderP;
    expect((await handshakeFailure(accept.address, { ca: relay.caPem })).status).toBe(403);
  });

  it('forgets a rendezvous whose sender hung up', async () => {
    const listener = await listen();
    const before = relay.stats().counters.sendersAbandoned;
    const sender = new WebSocket(hcUrl(relay, 'hc1', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken() },
    });
    sender.on('error', () => undefined);
    const { accept } = await listener.nextAccept();
    sender.terminate();
    await waitUntil(
      () => relay.stats().counters.sendersAbandoned > before,
      'the relay notices the sender left',
    );
    expect(relay.stats().pendingRendezvous).toBe(0);
    expect((await handshakeFailure(accept.address, { ca: relay.caPem })).status).toBe(403);
  });

  it('answers with the sub-protocol the listener chose among those the sender offered', async () => {
    const listener = await listen();
    const senderP = connect('hc1', { ServiceBusAuthorization: sendToken() }, {}, ['chat.v1', 'chat.v2']);
    const { accept } = await listener.nextAccept();
    expect(accept.connectHeaders['Sec-WebSocket-Protocol']).toBe('chat.v1,chat.v2');
    const rendezvous = await openWs(accept.address, { ca: relay.caPem, protocols: ['chat.v2'] });
    sockets.push(rendezvous);
    const sender = await senderP;
    expect(rendezvous.protocol).toBe('chat.v2');
    expect(sender.protocol).toBe('chat.v2');
  });

  it('spreads connections over the listeners of a hybrid connection at random', async () => {
    // Its own relay with the default 30 s window: 60 concurrent handshakes on a busy CI machine may
    // take longer than the short window the other tests use.
    const spread = await startSandboxRelay({ hybridConnections: ['spread'] });
    try {
      const root = spread.rootKeys;
      const token = tokenFor(spread, 'spread', root.keyName, root.primaryKey);
      const group = await Promise.all([0, 1, 2].map(() => RawListener.open(spread, 'spread', token)));
      const counts = group.map(() => 0);
      group.forEach((l, i) =>
        l.control.on('message', (data) => {
          counts[i]!++;
          const { accept } = JSON.parse(data.toString()) as { accept: { address: string } };
          // Reject at once: only the choice of listener matters here.
          void handshakeFailure(`${accept.address}&sb-hc-statusCode=503&sb-hc-statusDescription=x`, {
            ca: spread.caPem,
          });
        }),
      );
      const attempts = 60;
      const answers = await Promise.all(
        Array.from({ length: attempts }, () =>
          handshakeFailure(hcUrl(spread, 'spread', 'connect'), {
            ca: spread.caPem,
            headers: { ServiceBusAuthorization: token },
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(attempts);
      // Each of 3 listeners is missed by 60 uniform picks with probability (2/3)^60, about 3e-11.
      for (const count of counts) expect(count).toBeGreaterThan(0);
      await Promise.all(group.map((l) => l.close()));
    } finally {
      await spread.stop();
    }
  });
});
