import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { HubAuthenticator } from '../auth';
import { IotHubError, toIotHubError } from '../errors';
import { HubLogger } from '../logger';
import { readJsonBody, sendError, sendReply } from './http-io';
import { RestContext, ROUTES } from './routes';
import { RestThrottle, throttleKindOf } from './throttle';

/**
 * The service side of the sandbox hub: IoT Hub's HTTPS REST API (devices, modules, twins, queries,
 * configurations, direct methods) behind hub-level SAS policies. It never listens itself; the TLS listener
 * hands it decrypted connections that start with an HTTP request.
 */
export class RestFront {
  private readonly server: Server;

  constructor(
    private readonly ctx: RestContext,
    private readonly auth: HubAuthenticator,
    private readonly log: HubLogger,
    /** Counts calls per throttle class and, when given rates, refuses over them with 429. */
    readonly throttle: RestThrottle = new RestThrottle(),
  ) {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'rest handler failed');
        if (!res.headersSent) sendError(res, toIotHubError(err));
        else res.destroy();
      });
    });
    // Method calls wait up to 300 s for a device; do not let Node's default request timeout cut them.
    this.server.requestTimeout = 0;
    // Node's 5 s default closes an idle socket from a timer that runs before a busy hub reads the request already
    // waiting on it (a reset, seen at 10,000 twins); a minute, announced as `Keep-Alive: timeout=60`, leaves the
    // clients (which close idle sockets after 30 s, see HostPortAgent) a wide margin, as Azure's front ends do.
    this.server.keepAliveTimeout = 60_000;
  }

  /** Serves one decrypted connection. */
  handle(stream: Duplex): void {
    this.server.emit('connection', stream);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    // The SDK lists devices at `/devices/` (devicePath('')); IoT Hub treats the trailing slash as absent.
    url.pathname = url.pathname.replace(/(.)\/+$/, '$1');
    const method = req.method ?? 'GET';
    try {
      if (!url.searchParams.get('api-version')) {
        throw new IotHubError('InvalidProtocolVersion', 'the api-version query parameter is required');
      }
      let found = false;
      for (const route of ROUTES) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        found = true;
        if (route.method !== method) continue;
        this.auth.authenticateService(req.headers.authorization, route.rights);
        const kind = throttleKindOf(method, url.pathname);
        const wait = kind === undefined ? undefined : this.throttle.admit(kind);
        if (wait !== undefined) {
          req.resume();
          sendError(res, new IotHubError('ThrottlingException', `${kind} throttle reached`), {
            'retry-after': String(wait),
          });
          return;
        }
        const params = m.slice(1).map((s) => decodeURIComponent(s));
        const body = await readJsonBody(req);
        const reply = await route.handle(this.ctx, {
          params,
          body,
          query: url.searchParams,
          header: (name) => {
            const v = req.headers[name.toLowerCase()];
            return Array.isArray(v) ? v[0] : v;
          },
        });
        this.log.debug({ method, path: url.pathname, status: reply.status }, 'rest request');
        sendReply(res, reply);
        return;
      }
      throw found
        ? new IotHubError('MethodNotAllowed', `${method} is not supported on ${url.pathname}`)
        : new IotHubError('NotFound', `no resource at ${url.pathname}`);
    } catch (err) {
      const e = toIotHubError(err);
      this.log.info({ method, path: url.pathname, status: e.status, code: e.code }, 'rest request failed');
      req.resume();
      sendError(res, e);
    }
  }

  /** Stops serving; the TLS listener destroys the sockets it handed over. */
  close(): void {
    this.server.removeAllListeners('request');
  }
}
