import { createServer, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelemetryError } from '../telemetry/errors';

/** A small HTTP server that is listening; `close()` also drops idle keep-alive sockets so it never holds up exit. */
export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes every open connection; idempotent. */
  close(): Promise<void>;
}

/** Where to listen. Port 0 picks a free port (tests). */
export interface ListenOptions {
  readonly port: number;
  readonly host: string;
}

// Probes and scrapers send tiny requests; a client that dribbles headers is cut off rather than held.
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Starts an HTTP/1.1 server for `handler` on host:port; rejects with TELEMETRY_LISTEN_FAILED (e.g. port in use). */
export function listenHttp(handler: RequestListener, options: ListenOptions): Promise<HttpEndpoint> {
  const server = createServer(handler);
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new TelemetryError(
          'TELEMETRY_LISTEN_FAILED',
          `cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`,
          err.code === 'EADDRINUSE',
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        host: address.address,
        port: address.port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          })),
      });
    });
  });
}

/** Writes a complete response; HEAD gets the headers without the body. */
export function respond(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The request path without the query string (probes may append one). */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
