// The sandbox relay with TLS in front processes (tlsFronts): the protocol seen by clients must not change —
// rendezvous, headers, the client's address in remoteEndpoint, status codes, a listener's reject — and
// stopping the relay ends the fronts.
import { createHash } from 'node:crypto';
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

// Many pairs at once keep both fronts busy while the core answers upgrades: the case where a front reads the
// listener's 101 and the sender's first frame in one go (tests/integration/sandbox-relay-tls-front-records.test.ts
// pins that case down alone). The default accept window: a loaded machine must not turn this into 504s.
describe('sandbox relay with two TLS front processes, many pairs at once', () => {
  let relay: SandboxRelay;
  let listenKeys: AccessKeys;
  let sendKeys: AccessKeys;
  const sockets: Array<WebSocket | undefined> = [];
  let listener: RawListener | undefined;

  beforeAll(async () => {
    relay = await startSandboxRelay({ tlsFronts: 2, hybridConnections: ['hc1'] });
    listenKeys = relay.createAuthorizationRule(undefined, 'listen-all', ['Listen']);
    sendKeys = relay.createAuthorizationRule(undefined, 'send-all', ['Send']);
  }, 60_000);

  afterAll(async () => {
    terminateAll(sockets.splice(0));
    await listener?.close();
    await relay?.stop();
  });

  const sendToken = (): string => tokenFor(relay, 'hc1', sendKeys.keyName, sendKeys.primaryKey);

  it('delivers every first frame and every byte of 100 concurrent pairs that write at once and close soon after', async () => {
    const pairs = 100;
    listener = await RawListener.open(
      relay,
      'hc1',
      tokenFor(relay, 'hc1', listenKeys.keyName, listenKeys.primaryKey),
    );
    const hash = (frames: Buffer[]): string =>
      createHash('sha256').update(Buffer.concat(frames)).digest('hex');
    const bulkOf = (i: number, side: string): Buffer =>
      Buffer.alloc(((i % 4) * 64 + 1) * 1024, `${side}${i}`);
    const collect = (ws: WebSocket): Promise<{ frames: Buffer[]; code: number }> => {
      const frames: Buffer[] = [];
      ws.on('message', (d: Buffer) => frames.push(Buffer.from(d)));
      ws.on('error', () => undefined);
      return closed(ws).then(({ code }) => ({ frames, code }));
    };
    // The listener side: answer every accept, write its own first frame and bulk at once, then read to the end.
    const listenerEnds = new Map<string, Promise<{ frames: Buffer[]; code: number }>>();
    const accepting = (async () => {
      for (let n = 0; n < pairs; n++) {
        const { accept } = await listener!.nextAccept(30_000);
        listenerEnds.set(
          accept.id,
          openWs(accept.address, { ca: relay.caPem }).then((ws) => {
            sockets.push(ws);
            const ended = collect(ws);
            ws.send(Buffer.from(`first-from-listener ${accept.id}`));
            ws.send(bulkOf(Number(accept.id.slice(2)), 'L'));
            return ended;
          }),
        );
      }
    })();
    const senderEnds = await Promise.all(
      Array.from({ length: pairs }, async (_, i) => {
        const ws = await openWs(hcUrl(relay, 'hc1', 'connect', { 'sb-hc-id': `p-${i}` }), {
          ca: relay.caPem,
          headers: { ServiceBusAuthorization: sendToken() },
        });
        sockets.push(ws);
        const ended = collect(ws);
        // The first frame goes out right after the upgrade, as the gateway's preamble does.
        ws.send(Buffer.from(`first-from-sender p-${i}`));
        ws.send(bulkOf(i, 'S'));
        const firstBack = new Promise<void>((resolve) => ws.once('message', () => resolve()));
        await firstBack;
        ws.close(1000);
        return { i, ...(await ended) };
      }),
    );
    await accepting;
    const problems: string[] = [];
    for (const { i, frames, code } of senderEnds) {
      if (frames[0]?.toString() !== `first-from-listener p-${i}`) problems.push(`sender ${i}: first frame`);
      if (code !== 1000) problems.push(`sender ${i}: close ${code}`);
    }
    for (let i = 0; i < pairs; i++) {
      const end = await listenerEnds.get(`p-${i}`);
      if (!end) {
        problems.push(`listener ${i}: no accept`);
        continue;
      }
      if (end.frames[0]?.toString() !== `first-from-sender p-${i}`)
        problems.push(`listener ${i}: first frame`);
      else if (hash(end.frames.slice(1)) !== hash([bulkOf(i, 'S')]))
        problems.push(`listener ${i}: bulk (${end.frames.length} frames)`);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
