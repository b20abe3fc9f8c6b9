// The sandbox relay with TLS in front processes (tlsFronts): the protocol seen by clients must not change —
// rendezvous, headers, the client's address in remoteEndpoint, status codes, a listener's reject — and
// stopping the relay ends the fronts.
import WebSocket from 'ws';
import { startSandboxRelay, type AccessKeys, type SandboxRelay } from '../../sandbox/src/relay';
import {
  handshakeFailure,
  hcUrl,
  openWs,
  RawListener,
  terminateAll,
  tokenFor,
} from '../support/sandbox-relay-raw-clients';

describe('sandbox relay with two TLS front processes', () => {
  let relay: SandboxRelay;
  let listenKeys: AccessKeys;
  let sendKeys: AccessKeys;
  const sockets: Array<WebSocket | undefined> = [];
  const listeners: RawListener[] = [];

  beforeAll(async () => {
    relay = await startSandboxRelay({ tlsFronts: 2, acceptTimeoutMs: 2000, hybridConnections: ['hc1'] });
    listenKeys = relay.createAuthorizationRule(undefined, 'listen-all', ['Listen']);
    sendKeys = relay.createAuthorizationRule(undefined, 'send-all', ['Send']);
  }, 60_000);

  afterEach(async () => {
    terminateAll(sockets.splice(0));
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  afterAll(async () => {
    if (!relay) return;
    const pids = relay.tlsFrontPids;
    await relay.stop();
    // Stopping the relay ends its front processes: none is left behind.
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  const listen = async (): Promise<RawListener> => {
    const l = await RawListener.open(
      relay,
      'hc1',
      tokenFor(relay, 'hc1', listenKeys.keyName, listenKeys.primaryKey),
    );
    listeners.push(l);
    return l;
  };
  const sendToken = (): string => tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey);

  it('runs the fronts as separate processes', () => {
    expect(relay.tlsFrontPids).toHaveLength(2);
    expect(relay.tlsFrontPids).not.toContain(process.pid);
  });

  it('joins sender and listener with headers and the client address intact, then carries frames', async () => {
    const listener = await listen();
    const senderP = openWs(hcUrl(relay, 'hc1', 'connect', { 'sb-hc-id': 'c-1' }), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken(), 'X-Custom': 'hello' },
    });
    const { accept } = await listener.nextAccept();
    expect(accept.id).toBe('c-1');
    expect(accept.connectHeaders['X-Custom']).toBe('hello');
    // The front passes the client's address on (PROXY line): the relay does not report its own socket.
    expect(accept.remoteEndpoint.address).toBe('127.0.0.1');
    expect(accept.remoteEndpoint.port).toBeGreaterThan(0);
    const rendezvous = await openWs(accept.address, { ca: relay.caPem });
    const sender = await senderP;
    sockets.push(rendezvous, sender);
    const big = Buffer.alloc(3 * 1024 * 1024, 9);
    const received = new Promise<number>((r) => rendezvous.once('message', (d: Buffer) => r(d.length)));
    sender.send(big);
    expect(await received).toBe(big.length);
  });

  it('answers the documented status codes: 401 without a token, 404 without a listener, a reject with 410', async () => {
    expect((await handshakeFailure(hcUrl(relay, 'hc1', 'connect'), { ca: relay.caPem })).status).toBe(401);
    const noListener = await handshakeFailure(hcUrl(relay, 'hc1', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken() },
    });
    expect(noListener.status).toBe(404);
    const listener = await listen();
    const senderFailure = handshakeFailure(hcUrl(relay, 'hc1', 'connect'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: sendToken() },
    });
    const { accept } = await listener.nextAccept();
    const rejected = await handshakeFailure(
      `${accept.address}&sb-hc-statusCode=403&sb-hc-statusDescription=no`,
      {
        ca: relay.caPem,
      },
    );
    expect(rejected.status).toBe(410);
    expect((await senderFailure).status).toBe(403);
  });
});
