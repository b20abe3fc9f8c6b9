// End to end: one gateway port routes TLS connections by server name (SNI) without terminating TLS; the
// ClientHello is replayed into the tunnel, so Node's TLS client verifies the target's own certificate.
// Real gateway and forwarder through the sandbox relay; TLS targets behind the forwarder.
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { RefusedEvent } from '../../modules/relay-gateway/src/events';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { e2eRoute, SITE, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { patternBytes } from '../support/tunnel-harness';

const NAMES = ['app.example.test', 'a.lab.example.test', 'b.c.lab.example.test', 'other.example.test'];

/** A TLS server that answers `label:` + sha256 of everything the client sent, once the client ends. */
async function startTlsTarget(pki: SandboxPki, label: string): Promise<tls.Server> {
  const server = tls.createServer({ cert: pki.certPem, key: pki.keyPem, allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => hash.update(c));
    socket.on('end', () => socket.end(`${label}:${hash.digest('hex')}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (server: tls.Server): number => (server.address() as { port: number }).port;

describe('e2e SNI routing on a shared TLS port', () => {
  let world: E2eWorld;
  let pki: SandboxPki;
  let app: tls.Server;
  let lab: tls.Server;
  const refused: RefusedEvent[] = [];
  let relayConnects = 0;

  beforeAll(async () => {
    pki = await generateSandboxPki(NAMES);
    app = await startTlsTarget(pki, 'app');
    lab = await startTlsTarget(pki, 'lab');
    const names = {
      'App.Example.Test': { hybridConnection: SITE, service: 'app' },
      '*.lab.example.test': { hybridConnection: SITE, service: 'lab' },
    };
    world = await startE2eWorld({
      services: () => ({
        app: { target: `127.0.0.1:${portOf(app)}` },
        lab: { target: `127.0.0.1:${portOf(lab)}` },
      }),
      routes: {
        shared: e2eRoute('app', { sni: { names, helloTimeoutMs: 3000 } }),
        fallback: e2eRoute('app', { sni: { names, unknownName: 'default' } }),
      },
    });
    world.gateway.gateway.on('refused', (e) => refused.push(e));
    world.gateway.gateway.on('connection', () => (relayConnects += 1));
  });

  afterAll(async () => {
    await world?.close();
    app?.close();
    lab?.close();
  });

  /** A verified TLS connection with `servername`; sends the payload, ends, returns the answer and the peer cert. */
  async function tlsRoundTrip(routeId: string, servername: string, payload: Buffer) {
    const socket = tls.connect({ port: world.port(routeId), host: '127.0.0.1', servername, ca: pki.caPem });
    try {
      await once(socket, 'secureConnect');
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.end(payload);
      await once(socket, 'end');
      return { authorized: socket.authorized, fingerprint, answer: Buffer.concat(chunks).toString() };
    } finally {
      socket.destroy();
    }
  }

  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const targetFingerprint = (): string => new X509Certificate(pki.certPem).fingerprint256;

  it.each([
    ['app.example.test', 'app'],
    ['a.lab.example.test', 'lab'],
    ['b.c.lab.example.test', 'lab'],
  ])('%s reaches the %s target with TLS end to end and every byte', async (name, label) => {
    const payload = patternBytes(300_000, name.length);
    const result = await tlsRoundTrip('shared', name, payload);
    expect(result.authorized).toBe(true);
    expect(result.fingerprint).toBe(targetFingerprint());
    expect(result.answer).toBe(`${label}:${sha(payload)}`);
  });

  it('an unknown name is refused before any relay connection (sni-unknown)', async () => {
    const before = relayConnects;
    const socket = tls.connect({
      port: world.port('shared'),
      host: '127.0.0.1',
      servername: 'other.example.test',
      ca: pki.caPem,
    });
    const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    socket.destroy();
    expect(err.code).toBe('ECONNRESET');
    await eventually(
      () => refused.some((e) => e.routeId === 'shared' && e.reason === 'sni-unknown'),
      'refusal',
    );
    expect(relayConnects).toBe(before);
  });

  it('with unknownName "default" an unknown name goes to the route\'s own service', async () => {
    const payload = patternBytes(5000, 11);
    const result = await tlsRoundTrip('fallback', 'other.example.test', payload);
    expect(result.authorized).toBe(true);
    expect(result.answer).toBe(`app:${sha(payload)}`);
  });

  it.each([
    [
      'a ClientHello cut short',
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
    ],
    ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n')],
    [
      'a handshake that is not a ClientHello',
      Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]),
    ],
  ])('%s is refused (sni-malformed) and opens no relay connection', async (_what, bytes) => {
    const before = relayConnects;
    const count = refused.filter((e) => e.reason === 'sni-malformed').length;
    const client = await connectClient(world.port('shared'));
    client.socket.end(bytes);
    const end = await client.ended;
    expect(end.received.length).toBe(0);
    await eventually(() => refused.filter((e) => e.reason === 'sni-malformed').length > count, 'refusal');
    expect(relayConnects).toBe(before);
  });
});
