import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'azure-iothub';
import { listenHttp, requestPath, respond } from '../../../modules/common/src/health/http-endpoint';
import { createLogger, type Logger } from '../../../modules/common/src/log';
import { handleAction, MIN_OPERATOR_TOKEN_LENGTH, type MethodInvoker } from './actions';
import { loadAssets, type Asset } from './assets';
import { StatusError } from './errors';
import { EventStream } from './event-stream';
import { IotHubFleetSource } from './iothub-source';
import { FleetMonitor } from './monitor';
import type { FleetSource } from './source';
import type { FleetDocument } from './view-types';

/** Options of startStatusServer: where the data comes from, where to listen, how often to read. */
export interface StatusServerOptions {
  /** The unmodified azure-iothub Registry (RegistryRead is enough); or give `source`. */
  readonly registry?: Registry;
  /** Any FleetSource (tests, other hosts); wins over `registry`. */
  readonly source?: FleetSource;
  /** Default 8090; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1: the page has no login of its own. */
  readonly bindAddress?: string;
  /** Time between IoT Hub reads; default 30 000 (two queries each: mind IoT Hub's query quota). */
  readonly pollIntervalMs?: number;
  /** One chart point; default 60 000. */
  readonly bucketMs?: number;
  /** How much history is kept and charted; default one hour. */
  readonly historyMs?: number;
  readonly forwarderModuleId?: string;
  readonly gatewayModuleId?: string;
  /** relay-gateway instances per gateway device (the pools' largest `gatewayModules`); 1 when absent. */
  readonly gatewayModules?: number;
  /** Flag tokens with less than this left (the controller's renewal margin); default 36 h. */
  readonly tokenWarnBelowMs?: number;
  readonly logger?: Logger;
  /** Where index.html, app.js, render.js and style.css are; default `static/` beside this module. */
  readonly staticDir?: string;
  /** Most pages streaming at once (default 50). */
  readonly maxEventClients?: number;
  readonly nowMs?: () => number;
  /**
   * Enables drain/resume of gateway routes from the page (POST /api/actions with `Authorization: Bearer {token}`),
   * through the modules' direct methods; also required to listen on anything but loopback.
   */
  readonly operatorToken?: string;
  /** Calls the direct methods (the azure-iothub `Client`); required with operatorToken. */
  readonly methods?: MethodInvoker;
}

/** A running status view. */
export interface StatusServer {
  readonly port: number;
  /** `http://{bindAddress}:{port}/` */
  readonly url: string;
  readonly monitor: FleetMonitor;
  /** Reads IoT Hub now (pages get the result at once); resolves with the new document. */
  refresh(): Promise<FleetDocument>;
  /** Stops polling, ends every page's stream and closes the port. Idempotent. */
  close(): Promise<void>;
}

// Everything the page loads comes from this server; no inline script or style, no framing, no referrer.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

/**
 * Serves the fleet status page: `/` (HTML, JS, CSS, uPlot from node_modules), `/api/fleet` (the JSON document)
 * and `/api/events` (the same document pushed after every poll, as server-sent events). Reads IoT Hub every
 * pollIntervalMs; a failed read keeps the last data and tells the page.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const bucketMs = options.bucketMs ?? 60_000;
  const historyMs = options.historyMs ?? 3_600_000;
  const problems: string[] = [];
  if (!(pollIntervalMs >= 100)) problems.push('pollIntervalMs must be at least 100');
  if (!(bucketMs >= 1000)) problems.push('bucketMs must be at least 1000');
  if (!(historyMs >= bucketMs && historyMs <= 24 * 3_600_000))
    problems.push('historyMs must be between bucketMs and 24 hours');
  if (!options.source && !options.registry) problems.push('give a registry or a source');
  const token = options.operatorToken;
  if (token !== undefined && token.length < MIN_OPERATOR_TOKEN_LENGTH)
    problems.push(`the operator token must be at least ${MIN_OPERATOR_TOKEN_LENGTH} characters`);
  if (token !== undefined && !options.methods)
    problems.push('an operator token needs a direct-method client');
  if (token === undefined && !isLoopback(options.bindAddress ?? '127.0.0.1'))
    problems.push(
      `listening on ${options.bindAddress} needs an operator token; without one the view stays on loopback`,
    );
  if (problems.length > 0) throw new StatusError('STATUS_BAD_OPTIONS', problems.join('; '), false);

  const logger = options.logger ?? createLogger('status-view');
  const assets = await loadAssets(options.staticDir);
  const source =
    options.source ??
    new IotHubFleetSource(options.registry!, {
      ...(options.forwarderModuleId !== undefined && { forwarderModuleId: options.forwarderModuleId }),
      ...(options.gatewayModuleId !== undefined && { gatewayModuleId: options.gatewayModuleId }),
      ...(options.gatewayModules !== undefined && { gatewayModules: options.gatewayModules }),
    });
  const monitor = new FleetMonitor({
    source,
    pollIntervalMs,
    bucketMs,
    historyMs,
    logger,
    ...(options.forwarderModuleId !== undefined && { forwarderModuleId: options.forwarderModuleId }),
    ...(options.gatewayModuleId !== undefined && { gatewayModuleId: options.gatewayModuleId }),
    ...(options.nowMs !== undefined && { nowMs: options.nowMs }),
    ...(options.tokenWarnBelowMs !== undefined && { tokenWarnBelowMs: options.tokenWarnBelowMs }),
  });
  const events = new EventStream({
    maxClients: options.maxEventClients ?? 50,
    keepAliveMs: 15_000,
    maxBufferedBytes: 4 * 1024 * 1024,
  });
  let latest: FleetDocument | undefined;
  const actionsEnabled = token !== undefined && options.methods !== undefined;
  const current = (): FleetDocument => ({ ...(latest ?? monitor.document()), actions: actionsEnabled });
  monitor.on('update', (document) => {
    latest = document;
    events.broadcast('fleet', JSON.stringify(current()));
  });

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method === 'POST' && requestPath(req) === '/api/actions' && actionsEnabled) {
      handleAction(req, res, {
        token: token!,
        methods: options.methods!,
        gatewayModuleId: options.gatewayModuleId ?? 'relay-gateway',
        logger,
        current,
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      respond(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    const path = requestPath(req);
    if (path === '/api/fleet') {
      respond(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(current()));
      return;
    }
    if (path === '/api/events') {
      if (req.method === 'HEAD') respond(req, res, 200, 'text/event-stream; charset=utf-8', '');
      else events.open(res, JSON.stringify(current()));
      return;
    }
    const asset = assets.get(path);
    if (asset) sendAsset(req, res, asset);
    else respond(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };

  let endpoint;
  try {
    endpoint = await listenHttp(handler, {
      port: options.port ?? 8090,
      host: options.bindAddress ?? '127.0.0.1',
    });
  } catch (err) {
    events.close();
    const e = err as { message: string; retryable?: boolean };
    throw new StatusError('STATUS_LISTEN_FAILED', e.message, e.retryable === true, undefined, { cause: err });
  }
  monitor.start();
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  logger.info({ url: `http://${host}:${endpoint.port}/`, pollIntervalMs }, 'status view listening');
  let closing: Promise<void> | undefined;
  return {
    port: endpoint.port,
    url: `http://${host}:${endpoint.port}/`,
    monitor,
    async refresh() {
      await monitor.pollOnce();
      return current();
    },
    close: () =>
      (closing ??= (async () => {
        await monitor.stop();
        events.close();
        await endpoint.close();
      })()),
  };
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  res.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': asset.body.length,
    'cache-control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
