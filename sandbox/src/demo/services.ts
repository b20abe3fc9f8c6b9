// The demo's sample on-prem services: what a location exposes through its relay-forwarder.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

/** Kinds of sample service the demo can run. */
export type SampleServiceKind = 'http' | 'echo';

/** A running sample service on 127.0.0.1. */
export interface SampleService {
  readonly kind: SampleServiceKind;
  readonly port: number;
  /** Closes the listening socket and every connection it holds. */
  close(): Promise<void>;
}

/** Where the HTTP sample page says it lives. */
export interface HttpServiceIdentity {
  readonly location: string;
  readonly service: string;
}

/** The page the HTTP sample serves; its first heading names the location and the service. */
export function samplePage(identity: HttpServiceIdentity, port: number, path: string, count: number): string {
  const name = `${identity.location} / ${identity.service}`;
  return [
    '<!doctype html>',
    `<title>${escapeHtml(name)}</title>`,
    `<h1>Hello from ${escapeHtml(name)}</h1>`,
    `<p>An on-prem sample HTTP service on 127.0.0.1:${port}, reached through relay-gateway, the sandbox Azure Relay and relay-forwarder.</p>`,
    `<p>Request ${count}: GET ${escapeHtml(path)}</p>`,
    '',
  ].join('\n');
}

/** Starts the sample HTTP service on an ephemeral loopback port: every GET gets the page naming `identity`. */
export async function startHttpService(identity: HttpServiceIdentity): Promise<SampleService> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count += 1;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('only GET and HEAD\n');
      return;
    }
    const body = samplePage(identity, port, req.url ?? '/', count);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-sample-service': `${identity.location}/${identity.service}`,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const port = await listenLoopback(server);
  return {
    kind: 'http',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts a TCP echo on an ephemeral loopback port; it half-closes when the client does, like a real echo. */
export async function startEchoService(): Promise<SampleService> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const port = await listenLoopback(server);
  return {
    kind: 'echo',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Starts the sample service of `kind` for `identity`. */
export function startSampleService(
  kind: SampleServiceKind,
  identity: HttpServiceIdentity,
): Promise<SampleService> {
  return kind === 'http' ? startHttpService(identity) : startEchoService();
}

function listenLoopback(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
