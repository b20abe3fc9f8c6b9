/**
 * Connect latency of the gateway's edge features beside a plain route: PROXY protocol intake, SNI routing and
 * mTLS termination. The gateway runs in process; its tunnel opener dials a loopback target directly instead of
 * the relay (the relay leg costs the same for every route), so the figures are the features' own cost.
 * Each sample is one sequential connection: connect (and TLS handshake) + one byte echoed back.
 *
 *   npm run bench:gateway-edge [-- 500]
 */
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import pino from 'pino';
import { Gateway } from '../modules/relay-gateway/src/gateway';
import type { TunnelOpener } from '../modules/relay-gateway/src/tunnel-opener';
import { generateSandboxPki } from '../sandbox/src/tls/pki';
import { createClientCa } from '../tests/support/client-certs';

const SAMPLES = Number(process.argv[2] ?? 300);

function echo(socket: net.Socket): void {
  socket.on('error', () => undefined);
  socket.pipe(socket);
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(label: string, once1: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 20; i++) await once1(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    await once1();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const fmt = (n: number): string => n.toFixed(2).padStart(7);
  console.log(
    `${label.padEnd(34)} p50 ${fmt(percentile(samples, 50))} ms   p99 ${fmt(percentile(samples, 99))} ms`,
  );
}

/** Resolves when the first echoed byte arrives, then closes. */
async function roundTrip(socket: net.Socket | tls.TLSSocket, first: Buffer): Promise<void> {
  socket.write(first);
  await once(socket, 'data');
  socket.destroy();
}

async function main(): Promise<void> {
  const pki = await generateSandboxPki(['app.example.test', 'gw.example.test']);
  const clientCa = await createClientCa('bench clients');
  const clientCert = await clientCa.issue('bench', '01');
  const tcpPort = await listen(net.createServer(echo));
  const tlsPort = await listen(tls.createServer({ cert: pki.certPem, key: pki.keyPem }, echo));
  const targets: Record<string, number> = { tcp: tcpPort, tls: tlsPort };

  const opener: TunnelOpener = async (request) => {
    const socket = net.connect({ port: targets[request.service]!, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    return { duplex: socket, halfClose: true };
  };
  const gateway = new Gateway({ opener, logger: pino({ level: 'silent' }) });
  const route = (service: string, more: object = {}): object => ({
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'hc',
    service,
    allow: ['127.0.0.0/8', '203.0.113.0/24'],
    ...more,
  });
  const applied = await gateway.applyDocument({
    schemaVersion: 1,
    hybridConnections: {
      hc: {
        connectionString: 'Endpoint=sb://ns.example/;SharedAccessKeyName=s;SharedAccessKey=k;EntityPath=hc',
      },
    },
    routes: {
      plain: route('tcp'),
      proxy: route('tcp', { acceptProxyProtocol: { trustedSources: ['127.0.0.0/8'] } }),
      tlsPlain: route('tls'),
      sni: route('tcp', {
        sni: { names: { 'app.example.test': { hybridConnection: 'hc', service: 'tls' } } },
      }),
      mtls: route('tcp', {
        mtls: { certificatePem: pki.certPem, privateKeyPem: pki.keyPem, clientCaPem: clientCa.caPem },
      }),
    },
  });
  if (!applied.ok) throw new Error(JSON.stringify(applied));
  const port = (id: string): number => gateway.state().routes[id]!.boundPort!;
  const tcp = async (id: string, first: Buffer): Promise<void> => {
    const socket = net.connect({ port: port(id), host: '127.0.0.1' });
    await once(socket, 'connect');
    await roundTrip(socket, first);
  };
  const viaTls = async (id: string, servername: string, cert?: { certPem: string; keyPem: string }) => {
    const socket = tls.connect({
      port: port(id),
      host: '127.0.0.1',
      servername,
      ca: pki.caPem,
      ...(cert && { cert: cert.certPem, key: cert.keyPem }),
    });
    await once(socket, 'secureConnect');
    await roundTrip(socket, Buffer.from('x'));
  };

  console.log(
    `gateway edge features: ${SAMPLES} sequential connections each, loopback, opener dials the target`,
  );
  await measure('plain TCP route', () => tcp('plain', Buffer.from('x')));
  await measure('PROXY v1 intake route', () =>
    tcp('proxy', Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 40001 443\r\nx')),
  );
  await measure('TLS to target, plain route', () => viaTls('tlsPlain', 'app.example.test'));
  await measure('TLS to target, SNI route', () => viaTls('sni', 'app.example.test'));
  await measure('mTLS terminated at the gateway', () => viaTls('mtls', 'gw.example.test', clientCert));
  gateway.closeAllConnections();
  await gateway.stop(0);
  process.exit(0);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
