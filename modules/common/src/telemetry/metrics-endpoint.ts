import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpEndpoint, listenHttp, ListenOptions, requestPath, respond } from '../health/http-endpoint';
import type { PrometheusReader } from './prometheus-reader';

/** Prometheus text-format content type (exposition format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Serves `GET /metrics` from `reader`; every other path is 404. */
export function startMetricsEndpoint(
  reader: PrometheusReader,
  options: ListenOptions,
): Promise<HttpEndpoint> {
  return listenHttp((req, res) => void handle(reader, req, res), options);
}

async function handle(reader: PrometheusReader, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (requestPath(req) !== '/metrics') return respond(req, res, 404, 'text/plain', 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return respond(req, res, 405, 'text/plain', 'method not allowed\n');
  }
  try {
    respond(req, res, 200, PROMETHEUS_CONTENT_TYPE, await reader.scrape());
  } catch {
    // After shutdown the reader refuses to collect; a scrape racing exit gets 503, not a crash.
    respond(req, res, 503, 'text/plain', 'metrics unavailable\n');
  }
}
