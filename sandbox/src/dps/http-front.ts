import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DpsError, toDpsError } from './errors';
import { readJsonBody, sendReply } from './http-io';
import { ROUTES, UNSERVED, type RouteContext } from './routes';
import type { DpsLogger } from './logger';

/**
 * The HTTPS side of the sandbox DPS: the device registration API and the service (enrollment) API. It never
 * listens itself; the TLS listener hands it decrypted connections that start with an HTTP request.
 */
export class HttpFront {
  private readonly server: Server;

  constructor(
    private readonly ctx: RouteContext,
    /** Throws DpsError 401 unless the header carries a valid service token. */
    private readonly authenticateService: (authorization: string | undefined) => void,
    private readonly log: DpsLogger,
  ) {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'dps handler failed');
        res.destroy();
      });
    });
  }

  /** Serves one decrypted connection. */
  handle(stream: Duplex): void {
    this.server.emit('connection', stream);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const method = req.method ?? 'GET';
    try {
      if (!url.searchParams.get('api-version'))
        throw new DpsError('BadRequest', 'the api-version query parameter is required');
      if (UNSERVED.test(url.pathname))
        throw new DpsError(
          'NotFound',
          'individual enrollments are not served by the sandbox DPS (use enrollment groups)',
        );
      let pathKnown = false;
      for (const route of ROUTES) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        pathKnown = true;
        if (route.method !== method) continue;
        if (route.caller === 'service') this.authenticateService(req.headers.authorization);
        const body = await readJsonBody(req);
        const reply = route.handle(this.ctx, {
          params: m.slice(1).map((s) => decodeURIComponent(s)),
          body,
          header: (name) => {
            const v = req.headers[name.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
          },
        });
        this.log.debug({ method, path: url.pathname, status: reply.status }, 'dps request');
        sendReply(res, reply);
        return;
      }
      throw pathKnown
        ? new DpsError('MethodNotAllowed', `${method} is not supported on ${url.pathname}`)
        : new DpsError('NotFound', `no resource at ${url.pathname}`);
    } catch (err) {
      const e = toDpsError(err);
      // Paths carry registration IDs, never secrets; tokens stay out of log lines.
      this.log.info({ method, path: url.pathname, status: e.status }, 'dps request refused');
      req.resume();
      sendReply(res, { status: e.status, body: e.toBody() });
    }
  }

  /** Stops serving; the TLS listener destroys the sockets it handed over. */
  close(): void {
    this.server.removeAllListeners('request');
  }
}
