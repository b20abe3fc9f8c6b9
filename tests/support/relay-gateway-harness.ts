// Helpers for relay-gateway tests: a scripted tunnel opener (the relay transport's test double), TCP clients
// that report how they ended, and config documents with ephemeral ports.
import { once } from 'node:events';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import type { Gateway } from '../../modules/relay-gateway/src/gateway';
import type {
  OpenedTunnel,
  TunnelOpener,
  TunnelRequest,
} from '../../modules/relay-gateway/src/tunnel-opener';

/** What the scripted opener does with one request. */
export type OpenerScript = 'echo' | 'hang' | 'relay-then-hang' | { readonly fail: unknown };

/** A TunnelOpener whose behaviour a test sets per service; it records every request. */
export class ScriptedOpener {
  readonly requests: TunnelRequest[] = [];
  /** Behaviour by service name; `default` for the rest. */
  readonly scripts = new Map<string, OpenerScript>();
  default: OpenerScript = 'echo';

  readonly open: TunnelOpener = (request) => {
    this.requests.push(request);
    const script = this.scripts.get(request.service) ?? this.default;
    if (script === 'echo') return Promise.resolve(echoTunnel());
    return new Promise<OpenedTunnel>((_resolve, reject) => {
      if (script === 'relay-then-hang') request.onRelayConnected?.();
      else if (script !== 'hang') {
        reject(script.fail);
        return;
      }
      const onAbort = (): void => reject(request.signal.reason);
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}

/** A tunnel that sends back what it receives, and ends when its writer ends. */
export function echoTunnel(): OpenedTunnel {
  return { duplex: new PassThrough(), halfClose: true };
}

/** A logger that writes nothing (LOG_LEVEL=debug npx jest … shows the lines). */
export function testLogger(): pino.Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

/** A port that was free a moment ago (listen on 0, close). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The bound port of a gateway route; throws when it is not listening. */
export function routePort(gateway: Gateway, routeId: string): number {
  const state = gateway.state().routes[routeId];
  if (!state?.boundPort) throw new Error(`route ${routeId} is not listening (${state?.status ?? 'absent'})`);
  return state.boundPort;
}

/** How a client connection ended. */
export interface ClientEnd {
  readonly received: Buffer;
  /** The errno when the connection ended with an error (ECONNRESET for a refused client). */
  readonly errorCode?: string;
}

/** A connected client that records what it receives and how it ends. */
export interface TestClient {
  readonly socket: net.Socket;
  /** Bytes received so far. */
  received(): Buffer;
  readonly ended: Promise<ClientEnd>;
}

/** Connects to 127.0.0.1:port (half-open allowed) and starts recording. */
export async function connectClient(port: number, host = '127.0.0.1'): Promise<TestClient> {
  const socket = net.connect({ port, host, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let errorCode: string | undefined;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', (e: NodeJS.ErrnoException) => (errorCode ??= e.code ?? 'error'));
  const ended = new Promise<ClientEnd>((resolve) =>
    socket.once('close', () => resolve({ received: Buffer.concat(chunks), ...(errorCode && { errorCode }) })),
  );
  // Not events.once: it rejects on 'error', and a refused or reset connection is a result here, not a failure.
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), ended]);
  return { socket, received: () => Buffer.concat(chunks), ended };
}

/** Writes `data`, ends the write side and resolves with everything received until the peer ends. */
export async function roundTrip(port: number, data: Buffer | string): Promise<ClientEnd> {
  const client = await connectClient(port);
  client.socket.end(data);
  const end = await client.ended;
  return end;
}

/**
 * Polls until `condition` holds; fails with `what` after `timeoutMs` instead of hanging the test (a function `what`
 * is read at the timeout, so the message can carry the state that did not come).
 */
export async function eventually(
  condition: () => boolean,
  what: string | (() => string),
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A gateway document: one hybrid connection `hc` (key credential) plus the given routes. */
export function gatewayDocument(
  routes: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): object {
  return {
    schemaVersion: 1,
    hybridConnections: {
      hc: {
        connectionString:
          'Endpoint=sb://ns.example/;SharedAccessKeyName=send;SharedAccessKey=k1;EntityPath=hc',
      },
    },
    routes,
    ...extra,
  };
}

/** A route on 127.0.0.1 (port 0 unless given) to service `svc` of `hc`, open to loopback clients. */
export function loopbackRoute(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'hc',
    service: 'svc',
    allow: ['127.0.0.0/8'],
    ...overrides,
  };
}
