// Test harness for the tunnel byte path: a local ws server/client pair stands in for the relay, a "gateway" TCP
// server feeds openSenderTunnel + pumpTunnel, the ws server side runs acceptListenerTunnel + dial + pumpTunnel.
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import {
  acceptListenerTunnel,
  halfCloseOfferHeaders,
  openSenderTunnel,
  pumpTunnel,
  TunnelCloseCode,
  tunnelErrorForCode,
  type ListenerTunnelRequest,
  type RelayDuplex,
  type TunnelOutcome,
} from '../../modules/common/src/tunnel';

/** sha256 of a buffer, hex. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so a failing transfer can be reproduced. */
export function patternBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (let i = length - (length % 4); i < length; i++) out[i] = i & 0xff;
  return out;
}

/** A TCP server on 127.0.0.1:0 with half-open sockets that remembers its sockets so `close()` leaves nothing open. */
export interface TestTcpServer {
  readonly port: number;
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** Starts a TCP server on an ephemeral loopback port. */
export async function startTcpServer(onConnection: (socket: net.Socket) => void): Promise<TestTcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A target that reads until EOF, then writes back everything it read and ends (the half-close test's server). */
export function echoUntilEof(socket: net.Socket): void {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => socket.end(Buffer.concat(chunks)));
  socket.on('error', () => undefined);
}

/** Connects a TCP client (half-open allowed) to a loopback port. */
export async function connectTcp(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Two connected TCP sockets on loopback (both half-open capable): `[client, server]`. */
export async function tcpSocketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = await connectTcp((server.address() as net.AddressInfo).port);
  const [serverSide] = await accepted;
  server.close(); // stops listening now; its callback would wait for these sockets to end
  return [client, serverSide];
}

/** Reads a socket to EOF; resolves with every byte, rejects on error. */
export function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Resolves when `socket` closes; the value says whether it saw an error and which errno. */
export function closed(socket: net.Socket): Promise<{ errorCode?: string }> {
  return new Promise((resolve) => {
    // A caller may subscribe after the 'error' event already fired (even after 'close'): the stream keeps the
    // error it was destroyed with, so start from that instead of reporting a reset socket as a clean close.
    const earlier = socket.errored as NodeJS.ErrnoException | null;
    let errorCode: string | undefined = earlier ? (earlier.code ?? 'error') : undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (errorCode ??= e.code ?? 'error'));
    if (socket.closed) resolve({ errorCode });
    else socket.once('close', () => resolve({ errorCode }));
  });
}

/** Resolves once the peer has closed `socket` (EOF, reset or full close), with the errno if it was an error. */
export function peerClosed(socket: net.Socket): Promise<{ errorCode?: string }> {
  return new Promise((resolve) => {
    if (socket.readableEnded || socket.closed) return resolve({});
    socket.once('end', () => resolve({}));
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ errorCode: e.code ?? 'error' }));
    socket.once('close', () => resolve({}));
  });
}

/** Resolves when `signal` is aborted (at once if it already is). */
export function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Waits for a condition, polling; fails the test with `what` after `timeoutMs` instead of hanging. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A local ws server/client pair (perMessageDeflate off), the relay stand-in for direct tests. */
export interface WsPair {
  /** The connecting (sender) side. */
  readonly sender: WebSocket;
  /** The accepted (listener) side. */
  readonly listener: WebSocket;
  /** The sender's handshake headers as the listener saw them (what the relay passes as connectHeaders). */
  readonly headers: IncomingMessage['headers'];
  close(): Promise<void>;
}

/** Opens one ws connection on loopback; `headers` go on the sender's handshake. */
export async function openWsPair(headers: Record<string, string> = {}): Promise<WsPair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket, IncomingMessage]>;
  const port = (wss.address() as net.AddressInfo).port;
  const sender = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, headers });
  const [[listener, req]] = await Promise.all([accepted, once(sender, 'open')]);
  return {
    sender,
    listener,
    headers: req.headers,
    async close() {
      for (const ws of [sender, listener]) {
        ws.on('error', () => undefined);
        if (ws.readyState !== WebSocket.CLOSED) {
          const done = once(ws, 'close');
          ws.terminate();
          await done;
        }
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** One connection through a {@link TunnelPath}: both ends' objects and how each side ended. */
export interface PathConnection {
  /** The gateway's accepted client socket and the forwarder's socket to the target. */
  gatewaySocket?: net.Socket;
  forwarderSocket?: net.Socket;
  senderWs?: WebSocket;
  listenerWs?: WebSocket;
  senderDuplex?: RelayDuplex;
  listenerDuplex?: RelayDuplex;
  senderHalfClose?: boolean;
  request?: ListenerTunnelRequest;
  /** Close code and reason each WebSocket reported when it closed. */
  senderClose?: { code: number; reason: string };
  listenerClose?: { code: number; reason: string };
  /** Settles with the sender-side pump outcome, or the error that stopped the tunnel from opening. */
  readonly sender: Promise<TunnelOutcome | Error>;
  /** Settles with the listener-side pump outcome, or the error that stopped the tunnel from opening. */
  readonly listener: Promise<TunnelOutcome | Error>;
}

/** Options for {@link startTunnelPath}. */
export interface TunnelPathOptions {
  /** Port name → target port on 127.0.0.1. */
  readonly services: Record<string, number>;
  /** Port name the gateway asks for (default: the first service). */
  readonly portName?: string;
  readonly senderOffersHalfClose?: boolean;
  readonly listenerSupportsHalfClose?: boolean;
  readonly idleTimeoutMs?: number;
  readonly replyTimeoutMs?: number;
  /** Replaces the listener's dial, e.g. to fail with a chosen cause; return a socket or throw. */
  readonly dial?: (request: ListenerTunnelRequest) => Promise<net.Socket>;
}

/** A gateway → ws → forwarder path in one process, for end-to-end byte tests without a relay. */
export interface TunnelPath {
  readonly gatewayPort: number;
  /** The relay stand-in's port, for hand-written senders: `ws://127.0.0.1:{wsPort}/`. */
  readonly wsPort: number;
  readonly connections: PathConnection[];
  /** Waits (bounded) until the gateway has accepted connection number `index`. */
  connection(index: number): Promise<PathConnection>;
  close(): Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function dialTarget(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Starts the gateway (TCP → openSenderTunnel → pump) and the forwarder (acceptListenerTunnel → dial → pump). */
export async function startTunnelPath(options: TunnelPathOptions): Promise<TunnelPath> {
  const portName = options.portName ?? Object.keys(options.services)[0];
  const connections: PathConnection[] = [];
  const sides: Array<{ sender: Deferred<TunnelOutcome | Error>; listener: Deferred<TunnelOutcome | Error> }> =
    [];

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const wsPort = (wss.address() as net.AddressInfo).port;

  const addConnection = (): number => {
    sides.push({ sender: deferred<TunnelOutcome | Error>(), listener: deferred<TunnelOutcome | Error>() });
    const id = sides.length - 1;
    connections.push({ sender: sides[id].sender.promise, listener: sides[id].listener.promise });
    return id;
  };

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    // Our gateway tags its connections; a hand-written client (azbridge stand-in) gets a record of its own.
    const tag = req.headers['x-test-conn'];
    const id = typeof tag === 'string' ? Number(tag) : addConnection();
    if (typeof tag !== 'string') sides[id].sender.resolve(new Error('no gateway side (raw client)'));
    const conn = connections[id];
    const side = sides[id].listener;
    conn.listenerWs = ws;
    ws.once(
      'close',
      (code: number, reason: Buffer) => (conn.listenerClose = { code, reason: reason.toString() }),
    );
    void (async () => {
      let request: ListenerTunnelRequest;
      try {
        request = await acceptListenerTunnel(ws, req.headers, {
          supportHalfClose: options.listenerSupportsHalfClose,
        });
      } catch (err) {
        side.resolve(err as Error);
        return;
      }
      conn.request = request;
      const targetPort = options.services[request.portName];
      if (targetPort === undefined && !options.dial) {
        const err = tunnelErrorForCode(
          TunnelCloseCode.UNKNOWN_SERVICE,
          `unknown service "${request.portName}"`,
        );
        request.fail(err);
        side.resolve(err);
        return;
      }
      let target: net.Socket;
      try {
        target = options.dial ? await options.dial(request) : await dialTarget(targetPort);
      } catch (err) {
        request.fail(err);
        side.resolve(err as Error);
        return;
      }
      let duplex: RelayDuplex;
      try {
        duplex = request.confirm();
      } catch (err) {
        target.destroy();
        side.resolve(err as Error);
        return;
      }
      conn.listenerDuplex = duplex;
      conn.forwarderSocket = target;
      side.resolve(await pumpTunnel(target, duplex, { idleTimeoutMs: options.idleTimeoutMs }).completion);
    })();
  });

  const gateway = await startTcpServer((socket) => {
    const id = addConnection();
    const side = sides[id];
    const conn = connections[id];
    conn.gatewaySocket = socket;
    socket.on('error', () => undefined);
    const headers: Record<string, string> = { 'x-test-conn': String(id) };
    if (options.senderOffersHalfClose ?? true) Object.assign(headers, halfCloseOfferHeaders());
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, { perMessageDeflate: false, headers });
    conn.senderWs = ws;
    ws.once(
      'close',
      (code: number, reason: Buffer) => (conn.senderClose = { code, reason: reason.toString() }),
    );
    void (async () => {
      try {
        await once(ws, 'open');
        const tunnel = await openSenderTunnel(ws, { portName, replyTimeoutMs: options.replyTimeoutMs });
        conn.senderDuplex = tunnel.duplex;
        conn.senderHalfClose = tunnel.halfClose;
        side.sender.resolve(
          await pumpTunnel(socket, tunnel.duplex, { idleTimeoutMs: options.idleTimeoutMs }).completion,
        );
      } catch (err) {
        // What a gateway does when the tunnel cannot open: close the client promptly.
        socket.destroy();
        side.sender.resolve(err as Error);
      }
    })();
  });

  return {
    gatewayPort: gateway.port,
    wsPort,
    connections,
    async connection(index: number) {
      await waitFor(() => connections.length > index, `gateway connection ${index}`);
      return connections[index];
    },
    async close() {
      const settle = (p: Promise<unknown>) =>
        Promise.race([p, new Promise((r) => setTimeout(r, 3000).unref())]);
      await Promise.all(connections.flatMap((c) => [settle(c.sender), settle(c.listener)]));
      await gateway.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const HANDLE_TYPES = ['TCPSocketWrap', 'TCPServerWrap', 'TCPWRAP', 'Timeout'];

/** Counts the live handles a leak would show up as (sockets, servers, timers). */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (HANDLE_TYPES.includes(type)) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Waits (bounded) until no more sockets, servers or timers are live than in `baseline`; throws naming the leak. */
export async function expectNoLeakedHandles(
  baseline: Record<string, number>,
  timeoutMs = 3000,
): Promise<void> {
  const leaked = (): string[] => {
    const now = liveHandles();
    return Object.keys(now)
      .filter((t) => now[t] > (baseline[t] ?? 0))
      .map((t) => `${t} ${baseline[t] ?? 0}→${now[t]}`);
  };
  const deadline = Date.now() + timeoutMs;
  while (leaked().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const left = leaked();
  if (left.length > 0) throw new Error(`leaked handles: ${left.join(', ')}`);
}

/**
 * Registers the leak check a tunnel test file runs around every test: records the live handles before it, and
 * after it runs `close` (which closes what the test started) and then fails if sockets, servers or timers leaked.
 */
export function checkLeaksAfterEach(close: () => Promise<void>): void {
  let baseline: Record<string, number>;
  beforeEach(() => {
    baseline = liveHandles();
  });
  afterEach(async () => {
    await close();
    await expectNoLeakedHandles(baseline);
  });
}
