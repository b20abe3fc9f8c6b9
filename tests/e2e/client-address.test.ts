// End to end: the public client's address reaches the target (PROXY protocol v1 and v2 from the forwarder), and
// the gateway takes it from a trusted front's PROXY header. Real gateway and forwarder through the sandbox relay;
// the target parses the PROXY header itself (independent of the module's parser).
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { RefusedEvent } from '../../modules/relay-gateway/src/events';
import { e2eRoute, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { startProxyAwareTarget, V2_SIGNATURE, type ProxySeen as Seen } from '../support/proxy-aware-target';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { patternBytes, type TestTcpServer } from '../support/tunnel-harness';

describe('e2e client address downstream (PROXY protocol)', () => {
  let world: E2eWorld;
  let target: TestTcpServer;
  let plain: TestTcpServer;
  const refused: RefusedEvent[] = [];
  let relayConnects = 0;
  const forwarderLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    target = await startProxyAwareTarget();
    plain = await startProxyAwareTarget();
    world = await startE2eWorld({
      forwarderLog: pino(
        { level: 'debug' },
        { write: (line: string) => forwarderLines.push(JSON.parse(line)) },
      ),
      services: () => ({
        v1: { target: `127.0.0.1:${target.port}`, proxyProtocol: 'v1' },
        v2: { target: `127.0.0.1:${target.port}`, proxyProtocol: 'v2' },
        plain: { target: `127.0.0.1:${plain.port}` },
      }),
      routes: {
        v1: e2eRoute('v1'),
        v2: e2eRoute('v2'),
        fronted: e2eRoute('v2', {
          allow: ['203.0.113.0/24', '2001:db8::/32'],
          acceptProxyProtocol: { trustedSources: ['127.0.0.0/8'], headerTimeoutMs: 2000 },
        }),
        untrusted: e2eRoute('v2', {
          allow: ['0.0.0.0/0'],
          acceptProxyProtocol: { trustedSources: ['10.0.0.0/8'] },
        }),
        plain: e2eRoute('plain'),
      },
    });
    world.gateway.gateway.on('refused', (e) => refused.push(e));
    world.gateway.gateway.on('connection', () => (relayConnects += 1));
  });

  afterAll(async () => {
    await world?.close();
    await target?.close();
    await plain?.close();
  });

  /** Sends `prefix` + payload, half-closes, and returns what the target reported (or how the connection ended). */
  async function send(routeId: string, payload: Buffer, prefix = Buffer.alloc(0)) {
    const client = await connectClient(world.port(routeId));
    const local = `${client.socket.localAddress}:${client.socket.localPort}`;
    client.socket.write(Buffer.concat([prefix, payload]));
    client.socket.end();
    const end = await client.ended;
    client.socket.destroy();
    const text = end.received.toString();
    return { local, end, seen: text ? (JSON.parse(text) as Seen) : undefined };
  }

  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  it.each([
    ['v1', 1],
    ['v2', 2],
  ])('the target behind a %s service sees the real client address and every byte', async (route, version) => {
    const payload = patternBytes(256 * 1024 + 7, version);
    const { local, seen } = await send(route, payload);
    expect(seen).toEqual({ version, source: local, sha256: sha(payload) });
    // The forwarder's log lines of this tunnel carry the original client address.
    await eventually(
      () => forwarderLines.some((l) => l.msg === 'tunnel closed' && l.clientAddress === local),
      'the forwarder logging the client address',
    );
  });

  it('a service without proxyProtocol gets the bytes untouched (no header)', async () => {
    const payload = patternBytes(4096, 9);
    const { seen } = await send('plain', payload);
    expect(seen).toEqual({ version: 0, source: 'none', sha256: sha(payload) });
  });

  it.each([
    ['v1', Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 40001 443\r\n')],
    [
      'v2',
      Buffer.concat([
        V2_SIGNATURE,
        Buffer.from([0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 7, 192, 0, 2, 1, 0x9c, 0x41, 0x01, 0xbb]),
      ]),
    ],
  ])("a trusted front's PROXY %s header names the client the target sees", async (_v, header) => {
    const payload = patternBytes(70_000, 3);
    const { seen } = await send('fronted', payload, header);
    expect(seen).toEqual({ version: 2, source: '203.0.113.7:40001', sha256: sha(payload) });
  });

  it('an announced client outside the allow-list is refused before any relay work', async () => {
    const before = relayConnects;
    const { seen, end } = await send(
      'fronted',
      Buffer.from('x'),
      Buffer.from('PROXY TCP4 198.51.100.1 192.0.2.1 1 2\r\n'),
    );
    expect(seen).toBeUndefined();
    expect(end.received.length).toBe(0);
    await eventually(
      () => refused.some((e) => e.routeId === 'fronted' && e.reason === 'not-allowed'),
      'refusal',
    );
    expect(refused.find((e) => e.reason === 'not-allowed')?.remoteAddress).toBe('198.51.100.1');
    expect(relayConnects).toBe(before);
  });

  it.each([
    ['garbage', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['a bad v1 address', Buffer.from('PROXY TCP4 203.0.113.999 192.0.2.1 1 2\r\n')],
    ['an over-long v1 line', Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)],
    ['a v2 header of an unknown version', Buffer.concat([V2_SIGNATURE, Buffer.from([0x31, 0x11, 0, 0])])],
  ])('a malformed PROXY header (%s) is refused with reason proxy-malformed', async (_what, header) => {
    const before = relayConnects;
    const count = refused.filter((e) => e.reason === 'proxy-malformed').length;
    const { seen, end } = await send('fronted', Buffer.alloc(0), header);
    expect(seen).toBeUndefined();
    expect(end.received.length).toBe(0);
    await eventually(() => refused.filter((e) => e.reason === 'proxy-malformed').length > count, 'refusal');
    expect(relayConnects).toBe(before);
  });

  it('a header cut short (the front closes its side) is refused as malformed', async () => {
    const count = refused.filter((e) => e.reason === 'proxy-malformed').length;
    const { seen } = await send('fronted', Buffer.alloc(0), Buffer.from('PROXY TCP4 203.0.113.7'));
    expect(seen).toBeUndefined();
    await eventually(() => refused.filter((e) => e.reason === 'proxy-malformed').length > count, 'refusal');
  });

  it('a PROXY header from a source outside trustedSources is refused (proxy-untrusted)', async () => {
    const before = relayConnects;
    const { seen } = await send(
      'untrusted',
      Buffer.from('x'),
      Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 1 2\r\n'),
    );
    expect(seen).toBeUndefined();
    await eventually(
      () => refused.some((e) => e.routeId === 'untrusted' && e.reason === 'proxy-untrusted'),
      'refusal',
    );
    expect(relayConnects).toBe(before);
  });
});
