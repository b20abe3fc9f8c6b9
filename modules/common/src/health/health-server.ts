import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePort } from '../telemetry/settings';
import { HttpEndpoint, listenHttp, requestPath, respond } from './http-endpoint';
import type { NotReadyReason, ReadinessCheck } from './readiness';

/** Options for startHealthServer. */
export interface HealthServerOptions {
  readonly port: number;
  /** Bind address; all IPv4 interfaces by default, since the load-balancer probe arrives from outside. */
  readonly host?: string;
  readonly readiness: ReadinessCheck;
  /** A readiness check slower than this counts as not ready (a hung check must not hang the probe). */
  readonly readinessTimeoutMs?: number;
}

/** The listening health server. */
export type HealthServer = HttpEndpoint;

/** Where the health server listens, from HEALTH_PORT / HEALTH_BIND_ADDRESS with the caller's default port. */
export interface HealthSettings {
  readonly port: number;
  readonly host: string;
}

/** Every IPv4 interface: the Azure Load Balancer probe comes from 168.63.129.16, not loopback. */
export const DEFAULT_HEALTH_BIND_ADDRESS = '0.0.0.0';
/** Default readiness-check bound. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

/** Reads HEALTH_PORT (default `defaultPort`: 8080 gateway, 8081 forwarder) and HEALTH_BIND_ADDRESS. */
export function healthSettingsFromEnv(env: NodeJS.ProcessEnv, defaultPort: number): HealthSettings {
  return {
    port: parsePort(env, 'HEALTH_PORT') ?? defaultPort,
    host: env.HEALTH_BIND_ADDRESS?.trim() || DEFAULT_HEALTH_BIND_ADDRESS,
  };
}

/**
 * Serves `/healthz` (200 while the process runs) and `/readyz` (200 when the readiness check returns no reasons,
 * else 503 with `{"status":"not_ready","reasons":[{code,message}]}`). GET and HEAD; no framework.
 */
export function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
  return listenHttp((req, res) => void handle(options.readiness, timeoutMs, req, res), {
    port: options.port,
    host: options.host ?? DEFAULT_HEALTH_BIND_ADDRESS,
  });
}

async function handle(
  readiness: ReadinessCheck,
  timeoutMs: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = requestPath(req);
  if (path !== '/healthz' && path !== '/readyz') return json(req, res, 404, { status: 'not_found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return json(req, res, 405, { status: 'method_not_allowed' });
  }
  if (path === '/healthz') return json(req, res, 200, { status: 'alive' });
  const reasons = await evaluate(readiness, timeoutMs);
  if (reasons.length === 0) return json(req, res, 200, { status: 'ready', reasons: [] });
  json(req, res, 503, { status: 'not_ready', reasons });
}

async function evaluate(readiness: ReadinessCheck, timeoutMs: number): Promise<readonly NotReadyReason[]> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<readonly NotReadyReason[]>((resolve) => {
    timer = setTimeout(
      () =>
        resolve([{ code: 'readiness_timeout', message: `readiness check took longer than ${timeoutMs} ms` }]),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(readiness), timedOut]);
  } catch {
    return [{ code: 'readiness_check_failed', message: 'readiness check threw' }];
  } finally {
    clearTimeout(timer);
  }
}

function json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  respond(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}
