/**
 * Raw `ws` clients for testing the sandbox relay at the protocol level (deliberately not our HC client
 * library, so the relay is tested against the documented wire format alone).
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import type { SandboxRelay } from '../../sandbox/src/relay';

/** The accept control message as the relay sends it. */
export interface AcceptMessage {
  accept: {
    address: string;
    id: string;
    connectHeaders: Record<string, string>;
    remoteEndpoint: { address: string; port: number };
  };
}

/** Outcome of a handshake that did not end in 101. */
export interface HandshakeFailure {
  status: number;
  statusMessage: string;
}

/** Options for openWs. */
export interface OpenWsOptions {
  ca: string;
  headers?: Record<string, string>;
  protocols?: string[];
}

/** A token for `path` (or the namespace) signed with a rule's key. */
export function tokenFor(
  relay: SandboxRelay,
  path: string | undefined,
  keyName: string,
  key: string,
  lifetimeMs = 60_000,
): string {
  return createSasToken({ resource: relayResourceUri(relay.namespace, path), keyName, key, lifetimeMs });
}

/** `wss://{ns}/$hc/{path}?sb-hc-action={action}` plus extra query parameters. */
export function hcUrl(
  relay: SandboxRelay,
  path: string,
  action: string,
  extra: Record<string, string> = {},
): string {
  const query = new URLSearchParams({ 'sb-hc-action': action, ...extra });
  return `wss://${relay.namespace}/$hc/${path}?${query.toString()}`;
}

/** Opens a WebSocket; resolves when open, rejects with a HandshakeFailure on a non-101 answer. */
export function openWs(url: string, options: OpenWsOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      ca: options.ca,
      headers: options.headers,
      perMessageDeflate: false,
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      reject(
        Object.assign(new Error(`handshake ${res.statusCode}`), {
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
        }),
      );
      res.resume();
      req.destroy();
    });
    ws.on('error', (err) => reject(err));
  });
}

/** Runs a handshake expected to fail; resolves with its status and description. */
export async function handshakeFailure(url: string, options: OpenWsOptions): Promise<HandshakeFailure> {
  try {
    const ws = await openWs(url, options);
    ws.terminate();
    throw new Error(`expected the handshake to fail, but it succeeded: ${url.split('?')[0]}`);
  } catch (err) {
    const failure = err as Partial<HandshakeFailure> & Error;
    if (failure.status === undefined) throw err;
    return { status: failure.status, statusMessage: failure.statusMessage ?? '' };
  }
}

/** Resolves with the close code and reason of a WebSocket (immediately if it already closed). */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
}

/** A listener control channel that queues accept messages. */
export class RawListener {
  readonly accepts: AcceptMessage[] = [];
  private waiters: Array<(m: AcceptMessage) => void> = [];

  private constructor(readonly control: WebSocket) {
    control.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as AcceptMessage;
      if (!message.accept) return;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.accepts.push(message);
    });
    control.on('error', () => undefined);
  }

  /** Opens a control channel with the token in the ServiceBusAuthorization header. */
  static async open(relay: SandboxRelay, path: string, token: string): Promise<RawListener> {
    const ws = await openWs(hcUrl(relay, path, 'listen'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: token },
    });
    return new RawListener(ws);
  }

  /** The next accept message (bounded wait). */
  nextAccept(timeoutMs = 5000): Promise<AcceptMessage> {
    const queued = this.accepts.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error('no accept message arrived'));
      }, timeoutMs);
      const done = (m: AcceptMessage): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push(done);
    });
  }

  /** Closes the control channel and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.control.readyState === WebSocket.CLOSED) return;
    const done = once(this.control, 'close');
    this.control.close();
    await done;
  }
}

/** Polls until `predicate` holds (bounded wait; no timing assertion). */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Terminates sockets that may still be open (test cleanup). */
export function terminateAll(sockets: Array<WebSocket | undefined>): void {
  for (const ws of sockets) if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
}
