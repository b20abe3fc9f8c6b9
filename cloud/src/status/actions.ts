// Drain and resume from the status page: POST /api/actions, behind an operator token, calling the relay-gateway's
// own `drain` / `resume` direct methods through IoT Hub (docs/status-view.md#actions).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from 'azure-iothub';
import { respond } from '../../../modules/common/src/health/http-endpoint';
import type { Logger } from '../../../modules/common/src/log';
import type { FleetDocument, ServiceRouteView } from './view-types';

/** What the page may ask for: drain or resume one gateway route. */
export type StatusAction = 'drain' | 'resume';

/** Calls a module's direct method; the azure-iothub `Client` in production. */
export type MethodInvoker = Pick<Client, 'invokeDeviceMethod'>;

/** Settings of the actions endpoint. */
export interface ActionSettings {
  /** The operator token the page must send as `Authorization: Bearer …`. */
  readonly token: string;
  readonly methods: MethodInvoker;
  readonly gatewayModuleId: string;
  readonly logger: Logger;
  /** The latest document: only a gateway route it shows can be acted on. */
  readonly current: () => FleetDocument;
}

const MAX_BODY = 4096;

/** The shortest operator token accepted: long enough not to be guessed over the network. */
export const MIN_OPERATOR_TOKEN_LENGTH = 16;

/**
 * Answers POST /api/actions `{ action, gateway, route }`: 401 without the right token, 400 for a bad body, 404 for
 * a gateway route the view does not show, else the module's own answer (status and payload) as JSON.
 */
export function handleAction(req: IncomingMessage, res: ServerResponse, settings: ActionSettings): void {
  const json = (status: number, body: unknown): void =>
    respond(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  if (!tokenMatches(req.headers.authorization, settings.token)) {
    req.resume();
    json(401, { code: 'UNAUTHORIZED', message: 'an operator token is needed (Authorization: Bearer …)' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return json(413, { code: 'TOO_LARGE', message: `at most ${MAX_BODY} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return json(400, { code: 'BAD_BODY', message: 'expected JSON { action, gateway, route }' });
    }
    const { action, gateway, route } = (body ?? {}) as Record<string, unknown>;
    if (
      (action !== 'drain' && action !== 'resume') ||
      typeof gateway !== 'string' ||
      typeof route !== 'string'
    )
      return json(400, {
        code: 'BAD_BODY',
        message: 'expected { "action": "drain" | "resume", "gateway": "<device>", "route": "<id>" }',
      });
    const shown = shownRoute(settings.current(), gateway, route);
    if (!shown)
      return json(404, { code: 'UNKNOWN_ROUTE', message: `the view shows no route ${route} on ${gateway}` });
    // The route lives in one relay-gateway instance of the device: the method goes to that module.
    settings.methods
      .invokeDeviceMethod(gateway, shown.module ?? settings.gatewayModuleId, {
        methodName: action,
        payload: { route },
        responseTimeoutInSeconds: 30,
      })
      .then(
        ({ result }) => {
          const r = result as { status?: number; payload?: unknown };
          settings.logger.info({ action, gateway, route, status: r.status }, 'status view action');
          json(200, { status: r.status ?? 0, payload: r.payload ?? null });
        },
        (err: Error) => {
          settings.logger.warn({ action, gateway, route, err: err.message }, 'status view action failed');
          json(502, { code: 'METHOD_FAILED', message: err.message });
        },
      );
  });
}

// Hashing first makes the comparison constant-time whatever the lengths.
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

function shownRoute(doc: FleetDocument, gateway: string, route: string): ServiceRouteView | undefined {
  for (const l of doc.snapshot?.locations ?? [])
    for (const s of l.services)
      for (const r of s.routes) if (r.gateway === gateway && r.route === route) return r;
  return undefined;
}
