import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';

/** One WebSocket handshake the fake service received. */
export interface FakeHandshake {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

/** How the fake service answers a handshake: open a WebSocket, never answer, or fail with a status. */
export type FakeAnswer = 'open' | 'hang' | { readonly status: number; readonly description?: string };

/** A WebSocket the fake service opened, with the handshake that opened it and the text it received. */
export interface FakeSocket {
  readonly ws: WebSocket;
  readonly handshake: FakeHandshake;
  readonly messages: unknown[];
}

/**
 * A scripted stand-in for the relay service's WebSocket endpoint (TLS on an ephemeral loopback port), for
 * listener edge cases the sandbox relay would never produce on its own: silent pongs, closes right after
 * the handshake, refusals on demand. Tests decide every answer through `answer`.
 */
export class FakeRelayService {
  readonly handshakes: FakeHandshake[] = [];
  readonly sockets: FakeSocket[] = [];
  /** Decides each handshake; by default every WebSocket opens. */
  answer: (handshake: FakeHandshake) => FakeAnswer = () => 'open';
  /** Called for each WebSocket the service opened. */
  onOpen: (socket: FakeSocket) => void = () => undefined;
  /** Pings received on opened sockets. */
  pings = 0;
  private readonly wss: WebSocketServer;
  private readonly rawSockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly pki: SandboxPki,
    autoPong: boolean,
  ) {
    this.wss = new WebSocketServer({ noServer: true, autoPong, perMessageDeflate: false });
    server.on('connection', (socket: Socket) => {
      this.rawSockets.add(socket);
      socket.once('close', () => this.rawSockets.delete(socket));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
  }

  /** Starts a fake service; `autoPong: false` makes it ignore pings like a dead intermediary. */
  static async start(options: { autoPong?: boolean } = {}): Promise<FakeRelayService> {
    const pki = await generateSandboxPki(['127.0.0.1']);
    const server = createServer({ cert: pki.certPem, key: pki.keyPem });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeRelayService(server, pki, options.autoPong ?? true);
  }

  /** `127.0.0.1:PORT`, usable as an endpoint namespace. */
  get namespace(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Handshakes whose `sb-hc-action` is `action`. */
  handshakesFor(action: string): FakeHandshake[] {
    return this.handshakes.filter((h) => h.url.searchParams.get('sb-hc-action') === action);
  }

  /** Open sockets whose `sb-hc-action` is `action`. */
  socketsFor(action: string): FakeSocket[] {
    return this.sockets.filter((s) => s.handshake.url.searchParams.get('sb-hc-action') === action);
  }

  /** Closes every socket and the server. */
  async stop(): Promise<void> {
    for (const { ws } of this.sockets) ws.terminate();
    for (const socket of this.rawSockets) socket.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const handshake: FakeHandshake = { url: new URL(req.url ?? '/', 'wss://fake'), headers: req.headers };
    this.handshakes.push(handshake);
    const answer = this.answer(handshake);
    if (answer === 'hang') return;
    if (answer !== 'open') {
      const reason = (answer.description ?? 'Refused').replace(/[^\x20-\x7e]/g, '?');
      socket.end(`HTTP/1.1 ${answer.status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const entry: FakeSocket = { ws, handshake, messages: [] };
      ws.on('message', (data) => {
        try {
          entry.messages.push(JSON.parse(data.toString()));
        } catch {
          entry.messages.push(data.toString());
        }
      });
      ws.on('ping', () => (this.pings += 1));
      this.sockets.push(entry);
      this.onOpen(entry);
    });
  }
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` (a bound against hangs, not a timing claim). */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Resolves with the arguments of the next `event`; unlike events.once it does not reject on 'error'
 * (a listener reports transient errors while it carries on). Fails after `timeoutMs` to avoid hangs.
 */
export function nextEvent(emitter: EventEmitter, event: string, timeoutMs = 10_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    const onEvent = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, onEvent);
  });
}
