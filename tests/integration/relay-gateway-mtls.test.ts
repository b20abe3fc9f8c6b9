// mTLS at the gateway: a route terminates TLS, requires a client certificate from its CA and refuses revoked
// serials before any relay connection; the verified identity travels on the connect request. The scripted
// opener stands in for the relay (an echo tunnel) and records every relay connection the gateway asks for.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { Gateway } from '../../modules/relay-gateway/src/gateway';
import type { RefusedEvent } from '../../modules/relay-gateway/src/events';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { createClientCa, type ClientCa } from '../support/client-certs';
import {
  eventually,
  gatewayDocument,
  loopbackRoute,
  routePort,
  ScriptedOpener,
  testLogger,
} from '../support/relay-gateway-harness';
import { patternBytes } from '../support/tunnel-harness';

const SERVER_NAME = 'gw.example.test';

describe('gateway mTLS route', () => {
  let serverPki: SandboxPki;
  let clientCa: ClientCa;
  let otherCa: ClientCa;
  let gateway: Gateway;
  let opener: ScriptedOpener;
  const refused: RefusedEvent[] = [];

  beforeAll(async () => {
    serverPki = await generateSandboxPki([SERVER_NAME]);
    clientCa = await createClientCa('plant-7 clients');
    otherCa = await createClientCa('someone else');
    opener = new ScriptedOpener();
    gateway = new Gateway({ opener: opener.open, logger: testLogger() });
    gateway.on('refused', (e) => refused.push(e));
    const applied = await gateway.applyDocument(
      gatewayDocument({
        secure: loopbackRoute({
          mtls: {
            certificatePem: serverPki.certPem,
            privateKeyPem: serverPki.keyPem,
            clientCaPem: clientCa.caPem,
            revokedSerials: ['0b:ad', '7E57'],
            handshakeTimeoutMs: 5000,
          },
        }),
      }),
    );
    expect(applied.ok).toBe(true);
  });

  afterAll(async () => {
    gateway?.closeAllConnections();
    await gateway?.stop(0);
  });

  /** Connects with an optional client certificate; resolves with the echoed bytes or the error that ended it. */
  async function attempt(cert?: { certPem: string; keyPem: string }, payload: Buffer = Buffer.from('hello')) {
    const socket = tls.connect({
      port: routePort(gateway, 'secure'),
      host: '127.0.0.1',
      servername: SERVER_NAME,
      ca: serverPki.caPem,
      ...(cert && { cert: cert.certPem, key: cert.keyPem }),
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e));
    socket.on('secureConnect', () => socket.end(payload));
    await once(socket, 'close');
    return { received: Buffer.concat(chunks), error };
  }

  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  it('a client certificate from the CA passes: every byte echoed, identity sent with the relay connect', async () => {
    const cert = await clientCa.issue('scada-1', '01f2');
    const payload = patternBytes(200_000, 5);
    const before = opener.requests.length;
    const { received, error } = await attempt(cert, payload);
    expect(error).toBeUndefined();
    expect(sha(received)).toBe(sha(payload));
    expect(opener.requests.length).toBe(before + 1);
    const headers = opener.requests.at(-1)!.headers!;
    expect(headers['x-hrf-client-cert']).toBe('serial=1F2; subject=CN=scada-1,O=plant-7');
    expect(headers['x-hrf-client']).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it.each([
    ['no client certificate', undefined, 'mtls-no-certificate'],
    ['a certificate from another CA', 'other', 'mtls-untrusted'],
    ['a revoked serial', 'revoked', 'mtls-revoked'],
  ])('%s is refused before any relay connection', async (_what, kind, reason) => {
    const cert =
      kind === 'other'
        ? await otherCa.issue('intruder', '02')
        : kind === 'revoked'
          ? await clientCa.issue('stolen', '0bad')
          : undefined;
    const before = opener.requests.length;
    const { received } = await attempt(cert);
    expect(received.length).toBe(0);
    await eventually(() => refused.some((e) => e.reason === reason), `refusal ${reason}`);
    expect(opener.requests.length).toBe(before);
    expect(gateway.state().routes.secure!.counters.refused[reason as 'mtls-revoked']).toBe(1);
  });

  it('a client that speaks no TLS is refused without a relay connection', async () => {
    const before = opener.requests.length;
    const net = await import('node:net');
    const socket = net.connect({ port: routePort(gateway, 'secure'), host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.end('GET / HTTP/1.1\r\n\r\n');
    await once(socket, 'close');
    await eventually(() => refused.some((e) => e.reason === 'mtls-handshake-failed'), 'refusal');
    expect(opener.requests.length).toBe(before);
  });

  it('a key that does not match the certificate is refused at apply with a clear reason', async () => {
    const otherPki = await generateSandboxPki([SERVER_NAME]);
    const result = await gateway.applyDocument(
      gatewayDocument({
        secure: loopbackRoute({
          mtls: {
            certificatePem: serverPki.certPem,
            privateKeyPem: otherPki.keyPem,
            clientCaPem: clientCa.caPem,
          },
        }),
      }),
    );
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toMatch(/cannot load the TLS certificate, key or client CA/);
    expect(JSON.stringify(result)).not.toMatch(/PRIVATE KEY/);
  });
});
