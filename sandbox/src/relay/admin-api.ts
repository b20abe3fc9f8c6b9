import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayRight } from '../../../modules/common/src/hc/sas';
import { authorize } from './authorize';
import type { RelayContext } from './context';
import { invalid, SandboxRelayError } from './errors';
import type { RelayManagement } from './management';
import type { KeyType } from './namespace-registry';

/** Path prefix of the admin API (not part of the Azure protocol; the `$` keeps it apart from entity names). */
export const ADMIN_PREFIX = '/$sandbox';

const MAX_BODY_BYTES = 64 * 1024;

type Json = Record<string, unknown> | unknown[] | null;

/**
 * Handles plain HTTPS requests on the relay port: the admin API under `/$sandbox/` (needs a token with
 * Manage on the namespace, in `ServiceBusAuthorization` or `Authorization`), a hint for `/$hc/` without
 * an upgrade, 404 elsewhere.
 */
export function createAdminHandler(ctx: RelayContext, management: RelayManagement) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(ctx, management, req, res).catch((err: unknown) => {
      if (err instanceof SandboxRelayError) return send(res, err.status, errorBody(err.code, err.message));
      ctx.logger.error({ err: (err as Error).message, url: req.url?.split('?')[0] }, 'admin request failed');
      send(res, 500, errorBody('SANDBOX_RELAY_INTERNAL', 'something went wrong in the sandbox relay'));
    });
  };
}

async function handle(
  ctx: RelayContext,
  management: RelayManagement,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sandbox.invalid');
  const rawSegments = url.pathname.split('/').filter((s) => s !== '');
  const segments = rawSegments.map((s) => safeDecode(s));
  if (segments[0] === '$hc')
    return send(
      res,
      400,
      errorBody('SANDBOX_RELAY_INVALID', 'hybrid connection addresses need a WebSocket upgrade'),
    );
  if (`/${segments[0]}` !== ADMIN_PREFIX)
    return send(res, 404, errorBody('SANDBOX_RELAY_NOT_FOUND', 'no such resource'));
  const route = segments.slice(1);
  const method = req.method ?? 'GET';

  if (route[0] === 'health' && route.length === 1 && method === 'GET')
    return send(res, 200, { status: 'ok', namespace: ctx.namespace });

  const header = req.headers.servicebusauthorization ?? req.headers.authorization;
  const token = Array.isArray(header) ? header[0] : header;
  const verdict = authorize(ctx.registry, token, { namespace: ctx.namespace, right: 'Manage' });
  if (!verdict.ok)
    return send(
      res,
      verdict.status,
      errorBody(
        verdict.status === 401 ? 'SANDBOX_RELAY_UNAUTHORIZED' : 'SANDBOX_RELAY_FORBIDDEN',
        verdict.reason,
      ),
    );

  const body = method === 'PUT' || method === 'POST' ? await readJson(req) : {};
  const result = dispatch(management, method, route, body);
  if (result === undefined)
    return send(res, 404, errorBody('SANDBOX_RELAY_NOT_FOUND', `no admin route ${method} ${url.pathname}`));
  send(res, 200, result);
}

/** Routes an authenticated admin request; undefined when no route matches. */
function dispatch(
  m: RelayManagement,
  method: string,
  route: string[],
  body: Record<string, unknown>,
): Json | undefined {
  const [first, name, third, rule, verb] = route;
  if (first === 'stats' && route.length === 1 && method === 'GET') return m.stats() as unknown as Json;
  if (first === 'dropListeners' && route.length === 1 && method === 'POST') {
    const dropped = m.dropListeners(
      optionalString(body.path, 'path'),
      optionalNumber(body.closeCode, 'closeCode'),
      optionalString(body.reason, 'reason'),
    );
    return { dropped };
  }
  if (first === 'authorizationRules') return rules(m, method, undefined, route.slice(1), body);
  if (first !== 'hybridConnections') return undefined;
  if (name === undefined)
    return method === 'GET' ? (m.listHybridConnections() as unknown as Json) : undefined;
  if (third === 'authorizationRules') return rules(m, method, name, route.slice(3), body);
  if (third !== undefined || rule !== undefined || verb !== undefined) return undefined;
  if (method === 'GET') return m.getHybridConnection(name) as unknown as Json;
  if (method === 'DELETE') return { deleted: m.deleteHybridConnection(name) };
  if (method === 'PUT')
    return m.createHybridConnection(name, {
      ...(body.requiresClientAuthorization !== undefined && {
        requiresClientAuthorization: optionalBoolean(
          body.requiresClientAuthorization,
          'requiresClientAuthorization',
        ),
      }),
      ...(body.userMetadata !== undefined && {
        userMetadata: optionalString(body.userMetadata, 'userMetadata'),
      }),
    }) as unknown as Json;
  return undefined;
}

function rules(
  m: RelayManagement,
  method: string,
  scope: string | undefined,
  route: string[],
  body: Record<string, unknown>,
): Json | undefined {
  const [ruleName, verb, extra] = route;
  if (extra !== undefined) return undefined;
  if (ruleName === undefined)
    return method === 'GET' ? (m.listAuthorizationRules(scope) as unknown as Json) : undefined;
  if (verb === 'listKeys' && method === 'POST') return m.listKeys(scope, ruleName) as unknown as Json;
  if (verb === 'regenerateKeys' && method === 'POST') {
    const keyType = body.keyType;
    if (keyType !== 'PrimaryKey' && keyType !== 'SecondaryKey')
      throw invalid('keyType must be PrimaryKey or SecondaryKey');
    return m.regenerateKey(
      scope,
      ruleName,
      keyType as KeyType,
      optionalString(body.key, 'key'),
    ) as unknown as Json;
  }
  if (verb !== undefined) return undefined;
  if (method === 'GET') {
    const found = m
      .listAuthorizationRules(scope)
      .find((r) => r.name.toLowerCase() === ruleName.toLowerCase());
    if (!found)
      throw new SandboxRelayError(
        'SANDBOX_RELAY_NOT_FOUND',
        `authorization rule "${ruleName}" does not exist`,
        404,
      );
    return found as unknown as Json;
  }
  if (method === 'DELETE') return { deleted: m.deleteAuthorizationRule(scope, ruleName) };
  if (method === 'PUT') {
    const rights = body.rights;
    if (!Array.isArray(rights) || rights.some((r) => typeof r !== 'string'))
      throw invalid('rights must be an array such as ["Listen","Send"]');
    return m.createAuthorizationRule(scope, ruleName, rights as RelayRight[]) as unknown as Json;
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw invalid(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  return value;
}

function optionalNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(`${field} must be an integer`);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`);
  return value;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function errorBody(code: string, message: string): Json {
  return { error: { code, message } };
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
