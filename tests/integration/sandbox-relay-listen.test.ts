import { once } from 'node:events';
import WebSocket from 'ws';
import { startSandboxRelay, type AccessKeys, type SandboxRelay } from '../../sandbox/src/relay';
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

describe('sandbox relay: listener control channel', () => {
  let relay: SandboxRelay;
  let listenKeys: AccessKeys;
  let sendKeys: AccessKeys;
  const sockets: Array<WebSocket | undefined> = [];
  const listeners: RawListener[] = [];

  const listenToken = (path = 'hc1', lifetimeMs = 60_000): string =>
    tokenFor(relay, path, listenKeys.keyName, listenKeys.primaryKey, lifetimeMs);
  const listen = async (path = 'hc1', token = listenToken(path)): Promise<RawListener> => {
    const l = await RawListener.open(relay, path, token);
    listeners.push(l);
    return l;
  };
  const fail = (path: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}) =>
    handshakeFailure(hcUrl(relay, path, 'listen', extra), { ca: relay.caPem, headers });
  const renew = (l: RawListener, token: unknown): void =>
    l.control.send(JSON.stringify({ renewToken: { token } }));

  beforeAll(async () => {
    relay = await startSandboxRelay({ hybridConnections: ['hc1', 'hc2', 'full', 'doomed'] });
    listenKeys = relay.createAuthorizationRule(undefined, 'listen-all', ['Listen']);
    sendKeys = relay.createAuthorizationRule(undefined, 'send-all', ['Send']);
  });

  afterEach(async () => {
    terminateAll(sockets.splice(0));
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  afterAll(() => relay.stop());

  it('answers 404 for an unknown hybrid connection', async () => {
    const failure = await fail('nope', { ServiceBusAuthorization: listenToken('nope') });
    expect(failure.status).toBe(404);
    expect(failure.statusMessage).toMatch(
      /TrackingId:.*SystemTracker:127\.0\.0\.1:\d+:HybridConnection:nope/,
    );
  });

  it('answers 401 for a missing, malformed, wrongly signed or expired token', async () => {
    expect((await fail('hc1')).status).toBe(401);
    expect((await fail('hc1', { ServiceBusAuthorization: 'Bearer abc' })).status).toBe(401);
    const wrongKey = tokenFor(relay, 'hc1', listenKeys.keyName, sendKeys.primaryKey);
    expect((await fail('hc1', { ServiceBusAuthorization: wrongKey })).status).toBe(401);
    expect((await fail('hc1', { ServiceBusAuthorization: listenToken('hc1', -5000) })).status).toBe(401);
  });

  it('answers 403 for a token without Listen or for another path', async () => {
    const sendOnly = tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey);
    const noRight = await fail('hc1', { ServiceBusAuthorization: sendOnly });
    expect(noRight.status).toBe(403);
    expect(noRight.statusMessage).toMatch(/Listen/);
    expect((await fail('hc1', { ServiceBusAuthorization: listenToken('hc2') })).status).toBe(403);
  });

  it('accepts a Manage token and a token in the sb-hc-token query parameter', async () => {
    const root = relay.rootKeys;
    listeners.push(
      await RawListener.open(relay, 'hc1', tokenFor(relay, undefined, root.keyName, root.primaryKey)),
    );
    const ws = await openWs(hcUrl(relay, 'hc1', 'listen', { 'sb-hc-token': listenToken() }), {
      ca: relay.caPem,
    });
    sockets.push(ws);
    expect(relay.stats().listenersByPath.hc1).toBe(2);
  });

  it('takes up to 25 listeners per hybrid connection and refuses the 26th with 403 QuotaExceeded', async () => {
    const group = await Promise.all(Array.from({ length: 25 }, () => listen('full')));
    expect(relay.getHybridConnection('full').listenerCount).toBe(25);
    const refused = await fail('full', { ServiceBusAuthorization: listenToken('full') });
    expect(refused.status).toBe(403);
    expect(refused.statusMessage).toMatch(/QuotaExceeded.*MaximumListenersPerEndpoint/);
    await group[0]!.close();
    await waitUntil(() => relay.getHybridConnection('full').listenerCount === 24, 'a slot frees up');
    await listen('full');
  });

  it('answers pings on the control channel', async () => {
    const l = await listen();
    const pong = once(l.control, 'pong');
    l.control.ping(Buffer.from('are you there'));
    const [data] = (await pong) as [Buffer];
    expect(data.toString()).toBe('are you there');
  });

  it('closes the control channel with 1008 when its token expires unrenewed', async () => {
    const l = await listen('hc1', listenToken('hc1', 1200));
    const { code, reason } = await closed(l.control);
    expect(code).toBe(1008);
    expect(reason).toMatch(/expired/);
    expect(relay.stats().counters.tokenExpiryCloses).toBeGreaterThanOrEqual(1);
  });

  it('keeps a channel open past its first token when renewToken brings a valid one', async () => {
    const firstToken = listenToken('hc1', 1200);
    const l = await listen('hc1', firstToken);
    const before = relay.stats().counters.tokenRenewals;
    renew(l, listenToken('hc1', 60_000));
    await waitUntil(() => relay.stats().counters.tokenRenewals > before, 'the renewal is processed');
    const firstExpiryMs = Number(/se=(\d+)/.exec(firstToken)![1]) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, firstExpiryMs - Date.now()) + 300));
    expect(l.control.readyState).toBe(WebSocket.OPEN);
  });

  it.each([
    ['a token with a wrong signature', () => tokenFor(relay, 'hc1', listenKeys.keyName, sendKeys.primaryKey)],
    ['a token for another path', () => listenToken('hc2')],
    ['a token without Listen', () => tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey)],
    ['an expired token', () => listenToken('hc1', -5000)],
    ['no token at all', () => undefined],
  ])('closes the channel with 1008 when renewToken carries %s', async (_what, token) => {
    const l = await listen();
    renew(l, token());
    const { code, reason } = await closed(l.control);
    expect(code).toBe(1008);
    expect(reason.length).toBeGreaterThan(0);
  });

  it('ignores control messages it does not know', async () => {
    const l = await listen();
    l.control.send('not json');
    l.control.send(JSON.stringify({ somethingElse: {} }));
    l.control.send(Buffer.from([1, 2, 3]));
    const pong = once(l.control, 'pong');
    l.control.ping();
    await pong;
    expect(l.control.readyState).toBe(WebSocket.OPEN);
  });

  it('drops listeners like the daily restart (default 1011) or with a chosen code, leaving tunnels up', async () => {
    const a = await listen('hc1');
    const b = await listen('hc2');
    const sendToken = tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey);
    const senderP = openWs(hcUrl(relay, 'hc1', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken },
    });
    const rendezvous = await openWs((await a.nextAccept()).accept.address, { ca: relay.caPem });
    const sender = await senderP;
    sockets.push(rendezvous, sender);

    const closedA = closed(a.control);
    expect(relay.dropListeners('hc1')).toBe(1);
    expect((await closedA).code).toBe(1011);
    expect(b.control.readyState).toBe(WebSocket.OPEN);
    const echoed = once(rendezvous, 'message');
    sender.send('still flowing');
    expect(String((await echoed)[0])).toBe('still flowing');

    const closedB = closed(b.control);
    expect(relay.dropListeners(undefined, 1001, 'going away')).toBe(1);
    expect(await closedB).toEqual({ code: 1001, reason: 'going away' });
  });

  it('closes listeners and connections with 1001 when the hybrid connection is deleted', async () => {
    const l = await listen('doomed');
    const sendToken = tokenFor(relay, 'doomed', sendKeys.keyName, sendKeys.primaryKey);
    const senderP = openWs(hcUrl(relay, 'doomed', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken },
    });
    const rendezvous = await openWs((await l.nextAccept()).accept.address, { ca: relay.caPem });
    const sender = await senderP;
    sockets.push(rendezvous, sender);
    const pendingSender = handshakeFailure(hcUrl(relay, 'doomed', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken },
    });
    await l.nextAccept();

    const [control, tunnelSender, tunnelListener] = [closed(l.control), closed(sender), closed(rendezvous)];
    expect(relay.deleteHybridConnection('doomed')).toBe(true);
    expect((await control).code).toBe(1001);
    expect((await tunnelSender).code).toBe(1001);
    expect((await tunnelListener).code).toBe(1001);
    expect((await pendingSender).status).toBe(404);
    expect((await fail('doomed', { ServiceBusAuthorization: listenToken('doomed') })).status).toBe(404);
  });
});
