// Test harness for relay-forwarder integration tests: a sandbox relay over TLS, real TCP targets, a forwarder
// fed configuration documents, and two kinds of sender: a raw one that writes the azbridge preamble by hand,
// and our library's sender tunnel.
import { once } from 'node:events';
import * as net from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import { keyTokenProvider } from '../../modules/common/src/hc/token-provider';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { halfCloseOfferHeaders } from '../../modules/common/src/tunnel/half-close';
import { openSenderTunnel } from '../../modules/common/src/tunnel/sender-tunnel';
import type { RelayDuplex } from '../../modules/common/src/tunnel/relay-duplex';
import { Forwarder, type ForwarderOptions } from '../../modules/relay-forwarder/src/forwarder';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { startTcpServer, waitFor, type TestTcpServer } from './tunnel-harness';

/** Keys of one hybrid connection on the sandbox relay (a Listen rule for the forwarder, a Send rule for senders). */
export interface HcKeys {
  readonly path: string;
  /** Listen-only connection string with EntityPath. */
  readonly listenConnectionString: string;
  readonly listenKey: { readonly keyName: string; readonly key: string };
  readonly sendKey: { readonly keyName: string; readonly key: string };
}

/** The pieces every forwarder integration test needs. */
export interface ForwarderWorld {
  readonly relay: SandboxRelay;
  /** Echoes every byte back, half-close aware. */
  readonly echo: TestTcpServer;
  /** A loopback port with nothing listening. */
  readonly downPort: number;
  hc(path: string): HcKeys;
  /** A Listen token for `path`, valid for `lifetimeMs`. */
  listenToken(path: string, lifetimeMs: number): string;
  startForwarder(options?: Partial<ForwarderOptions>): Forwarder;
  close(): Promise<void>;
}

/** Starts the sandbox relay with `paths`, an echo server, and finds a closed port. */
export async function startForwarderWorld(paths: readonly string[]): Promise<ForwarderWorld> {
  const relay = await startSandboxRelay();
  const keys = new Map<string, HcKeys>();
  for (const path of paths) {
    relay.createHybridConnection(path);
    const listen = relay.createAuthorizationRule(path, 'listen', ['Listen']);
    const send = relay.createAuthorizationRule(path, 'send', ['Send']);
    keys.set(path, {
      path,
      listenConnectionString: listen.primaryConnectionString,
      listenKey: { keyName: listen.keyName, key: listen.primaryKey },
      sendKey: { keyName: send.keyName, key: send.primaryKey },
    });
  }
  const echo = await startTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  const downPort = await closedPort();
  const forwarders: Forwarder[] = [];
  return {
    relay,
    echo,
    downPort,
    hc: (path) => keys.get(path)!,
    listenToken: (path, lifetimeMs) => {
      const k = keys.get(path)!;
      return createSasToken({
        resource: relayResourceUri(relay.namespace, path),
        keyName: k.listenKey.keyName,
        key: k.listenKey.key,
        lifetimeMs,
      });
    },
    startForwarder: (options = {}) => {
      const forwarder = new Forwarder({
        log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
        tls: { ca: relay.caPem },
        ...options,
      });
      forwarders.push(forwarder);
      return forwarder;
    },
    async close() {
      await Promise.all(forwarders.map((f) => f.stop(0)));
      await echo.close();
      await relay.stop();
    },
  };
}

/** Waits until every configured control channel of `hybridConnection` is online (bounded). */
export async function waitOnline(
  forwarder: Forwarder,
  hybridConnection: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    () => {
      const hc = forwarder.state().hybridConnections[hybridConnection];
      return hc !== undefined && hc.onlineListeners === hc.listeners;
    },
    `listeners of ${hybridConnection} online`,
    timeoutMs,
  );
}

/** A sender WebSocket driven by hand: the test writes the bytes, including the preamble. */
export interface RawSender {
  readonly ws: WebSocket;
  /** Every binary byte received so far, in order. */
  received(): Buffer;
  /** Text frames received (half-close negotiation, fin). */
  readonly texts: string[];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Waits until at least `length` bytes arrived (bounded). */
  waitForBytes(length: number, timeoutMs?: number): Promise<Buffer>;
}

/** Opens `wss://{ns}/$hc/{path}?sb-hc-action=connect` with a Send token, straight on ws (no library code). */
export async function openRawSender(
  world: ForwarderWorld,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawSender> {
  const k = world.hc(path);
  const token = createSasToken({
    resource: relayResourceUri(world.relay.namespace, path),
    keyName: k.sendKey.keyName,
    key: k.sendKey.key,
    lifetimeMs: 60_000,
  });
  const ws = new WebSocket(`wss://${world.relay.namespace}/$hc/${path}?sb-hc-action=connect`, {
    ca: world.relay.caPem,
    headers: { ServiceBusAuthorization: token, ...headers },
    perMessageDeflate: false,
  });
  const chunks: Buffer[] = [];
  const texts: string[] = [];
  let total = 0;
  const waiters = new Set<() => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      chunks.push(data as Buffer);
      total += (data as Buffer).length;
    } else texts.push((data as Buffer).toString('utf8'));
    for (const wake of waiters) wake();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    }),
  );
  await once(ws, 'open');
  return {
    ws,
    received: () => Buffer.concat(chunks),
    texts,
    closed,
    // Event-driven rather than polled, so a waiter that lost a race leaves no timer behind once the socket closes.
    waitForBytes(length, timeoutMs = 10_000) {
      return new Promise<Buffer>((resolve, reject) => {
        const check = (): void => {
          if (total >= length) finish(() => resolve(Buffer.concat(chunks)));
          else if (ws.readyState === WebSocket.CLOSED)
            finish(() => reject(new Error(`closed after ${total} of ${length} bytes`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${length} bytes (got ${total})`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The azbridge preamble, written from its byte layout: `[1, 0, mode, len] + UTF-8 port name`. */
export function handWrittenPreamble(portName: string, mode = 0): Buffer {
  const name = Buffer.from(portName, 'utf8');
  return Buffer.concat([Buffer.from([1, 0, mode, name.length]), name]);
}

/** Opens a tunnel to `portName` with our library's sender (half-close offered). */
export async function openLibraryTunnel(
  world: ForwarderWorld,
  path: string,
  portName: string,
): Promise<RelayDuplex> {
  const k = world.hc(path);
  const ws = await connectHybridConnection(
    {
      namespace: world.relay.namespace,
      path,
      tokenProvider: keyTokenProvider(k.sendKey.keyName, k.sendKey.key),
      tls: { ca: world.relay.caPem },
    },
    { headers: halfCloseOfferHeaders(), timeoutMs: 10_000 },
  );
  const { duplex } = await openSenderTunnel(ws, { portName, replyTimeoutMs: 10_000 });
  return duplex;
}

/** Resolves when the duplex has closed, with its error if any. */
export function duplexClosed(duplex: RelayDuplex): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    duplex.on('error', (err) => (error ??= err));
    if (duplex.closed) resolve(error);
    else duplex.once('close', () => resolve(error));
  });
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
