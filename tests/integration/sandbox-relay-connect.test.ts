import WebSocket from 'ws';
import { startSandboxRelay, type AccessKeys, type SandboxRelay } from '../../sandbox/src/relay';
import { hcUrl, openWs, RawListener, terminateAll, tokenFor } from '../support/sandbox-relay-raw-clients';

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
      acceptTimeoutMs: 400,
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
});
