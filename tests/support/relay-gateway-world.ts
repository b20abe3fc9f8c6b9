// relay-gateway integration world: the sandbox relay over TLS, a minimal forwarder-side listener built from our
// hc/tunnel library (not the relay-forwarder module), real TCP targets, and a gateway run from a config file.
import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { endpointFromConnectionString } from '../../modules/common/src/hc/endpoint';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { TunnelCloseCode } from '../../modules/common/src/tunnel/close-codes';
import { acceptListenerTunnel } from '../../modules/common/src/tunnel/listener-tunnel';
import { pumpTunnel } from '../../modules/common/src/tunnel/pump';
import { startGatewayFromFile, type GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { testLogger } from './relay-gateway-harness';
import { startTcpServer, waitFor, type TestTcpServer } from './tunnel-harness';

/** What the mini forwarder does for a port name: dial a loopback port, or fail with a close code. */
export type MiniService = { readonly port: number } | { readonly failWith: number };

/** A forwarder-side listener on one hybrid connection, made only of library parts. */
export class MiniForwarder {
  readonly listener: HybridConnectionListener;
  /** Accept ids (the gateway's connection ids) in arrival order. */
  readonly acceptIds: string[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(
    connectionString: string,
    caPem: string,
    private readonly services: Record<string, MiniService>,
  ) {
    const endpoint = endpointFromConnectionString(connectionString, { tls: { ca: caPem } });
    this.listener = new HybridConnectionListener(endpoint, {});
    this.listener.on('connection', (ws, request) => {
      this.acceptIds.push(request.id);
      void this.serve(ws, request.connectHeaders);
    });
  }

  /** Starts the control channel and waits until it is online (bounded). */
  async start(): Promise<void> {
    this.listener.start();
    await waitFor(() => this.listener.state === 'online', 'the mini forwarder to be online', 10_000);
  }

  async close(): Promise<void> {
    await this.listener.close();
    for (const socket of this.sockets) socket.destroy();
  }

  private async serve(
    ws: Parameters<typeof acceptListenerTunnel>[0],
    headers: Record<string, string>,
  ): Promise<void> {
    let request;
    try {
      // Like relay-forwarder: a connection the gateway opened ahead of a client waits longer for its preamble.
      const warm = headers['x-hrf-warm'] === '1';
      request = await acceptListenerTunnel(ws, headers, warm ? { preambleTimeoutMs: 120_000 } : {});
    } catch {
      return;
    }
    const service = this.services[request.portName];
    if (!service) return request.fail(TunnelCloseCode.UNKNOWN_SERVICE);
    if ('failWith' in service) return request.fail(service.failWith);
    const socket = net.connect({ port: service.port, host: '127.0.0.1', allowHalfOpen: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    } catch (err) {
      return request.fail(err);
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let duplex;
    try {
      duplex = request.confirm();
    } catch {
      socket.destroy();
      return;
    }
    pumpTunnel(socket, duplex);
  }
}

/** A target that hashes everything it receives and, at the client's FIN, answers with the sha256 hex and ends. */
export function sha256Sink(socket: net.Socket): void {
  const hash = createHash('sha256');
  socket.on('data', (chunk: Buffer) => hash.update(chunk));
  socket.on('end', () => socket.end(hash.digest('hex')));
  socket.on('error', () => undefined);
}

/** Everything a gateway integration test needs. */
export interface GatewayWorld {
  readonly relay: SandboxRelay;
  readonly forwarder: MiniForwarder;
  readonly echo: TestTcpServer;
  readonly sink: TestTcpServer;
  /** A loopback port with nothing listening (the forwarder's dial is refused). */
  readonly downPort: number;
  /** Send-only connection string for `site-a` (with EntityPath). */
  readonly sendConnectionString: string;
  /** Send-only connection string for `empty`, which has no listener (404). */
  readonly emptySendConnectionString: string;
  /** Listen-only connection string for `site-a`: a sender using it gets 403. */
  readonly listenConnectionString: string;
  /** A Send token for `site-a` signed with the send rule's current primary key, valid for `lifetimeMs`. */
  sendToken(lifetimeMs: number): string;
  /** The config file path (in a fresh temporary directory). */
  readonly configPath: string;
  /** Replaces the config file the way editors do (write a temp file, rename over). */
  writeConfig(document: unknown): Promise<void>;
  /** Replaces the config file with raw text. */
  writeConfigText(text: string): Promise<void>;
  /** Starts a gateway on the config file (write it first). */
  startGateway(): Promise<GatewayFileApp>;
  close(): Promise<void>;
}

/** Starts the relay with hybrid connections `site-a` (served by the mini forwarder) and `empty` (no listener). */
export async function startGatewayWorld(): Promise<GatewayWorld> {
  const relay = await startSandboxRelay();
  relay.createHybridConnection('site-a');
  relay.createHybridConnection('empty');
  const listen = relay.createAuthorizationRule('site-a', 'listen', ['Listen']);
  const send = relay.createAuthorizationRule('site-a', 'send', ['Send']);
  const emptySend = relay.createAuthorizationRule('empty', 'send', ['Send']);
  const echo = await startTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  const sink = await startTcpServer(sha256Sink);
  const downPort = await closedPort();
  const forwarder = new MiniForwarder(listen.primaryConnectionString, relay.caPem, {
    echo: { port: echo.port },
    sink: { port: sink.port },
    down: { port: downPort },
    slow: { failWith: TunnelCloseCode.TARGET_TIMEOUT },
  });
  await forwarder.start();
  const dir = await mkdtemp(join(tmpdir(), 'hrf-gateway-'));
  const configPath = join(dir, 'gateway.json');
  const apps: GatewayFileApp[] = [];
  let writes = 0;
  const writeConfigText = async (text: string): Promise<void> => {
    const temp = join(dir, `.gateway.json.${++writes}.tmp`);
    await writeFile(temp, text);
    await rename(temp, configPath);
  };
  return {
    relay,
    forwarder,
    echo,
    sink,
    downPort,
    sendConnectionString: send.primaryConnectionString,
    emptySendConnectionString: emptySend.primaryConnectionString,
    listenConnectionString: listen.primaryConnectionString,
    sendToken: (lifetimeMs) => {
      // The rule's current key: tests regenerate it to prove which token a handshake used.
      const keys = relay.listKeys('site-a', 'send');
      return createSasToken({
        resource: relayResourceUri(relay.namespace, 'site-a'),
        keyName: keys.keyName,
        key: keys.primaryKey,
        lifetimeMs,
      });
    },
    configPath,
    writeConfig: (document) => writeConfigText(JSON.stringify(document, null, 2)),
    writeConfigText,
    async startGateway() {
      const app = await startGatewayFromFile({
        configPath,
        logger: testLogger(),
        tls: { ca: relay.caPem },
        watch: { debounceMs: 20, pollIntervalMs: 0 },
      });
      apps.push(app);
      return app;
    },
    async close() {
      for (const app of apps) {
        app.hurry();
        await app.stop(0);
      }
      await forwarder.close();
      await Promise.all([echo.close(), sink.close()]);
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
