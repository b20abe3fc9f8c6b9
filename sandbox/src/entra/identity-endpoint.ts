import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../modules/common/src/log';
import type { SandboxEntraIssuer } from './issuer';

/** The App Service managed identity API version MSAL (and so `@azure/identity`) speaks. */
export const APP_SERVICE_MSI_API_VERSION = '2019-08-01';

/** Options of startSandboxIdentityEndpoint. */
export interface SandboxIdentityEndpointOptions {
  readonly issuer: SandboxEntraIssuer;
  /** The `X-IDENTITY-HEADER` secret; random when absent. */
  readonly secret?: string;
  /**
   * The identity that answers requests without `client_id` (this host's system-assigned identity); default the
   * issuer's first identity. One endpoint per simulated machine gives each its own, as on Azure and Azure Arc.
   */
  readonly systemAssignedClientId?: string;
  readonly logger?: Logger;
}

/** A running identity endpoint. */
export interface SandboxIdentityEndpoint {
  /** `http://127.0.0.1:{port}/msi/token`: the value of IDENTITY_ENDPOINT. */
  readonly url: string;
  /** The value of IDENTITY_HEADER (a throwaway secret; never log it). */
  readonly secret: string;
  /** The environment that makes an unmodified ManagedIdentityCredential use this endpoint. */
  environment(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  /** Token requests answered with a token so far. */
  readonly issued: number;
  stop(): Promise<void>;
}

/**
 * Serves the managed identity endpoint Azure App Service (and other hosts that set IDENTITY_ENDPOINT and
 * IDENTITY_HEADER) offers: `GET {endpoint}?api-version=2019-08-01&resource=…[&client_id=…]` with the secret in
 * `X-IDENTITY-HEADER`, answered with `{access_token, expires_on, resource, token_type, client_id}`. Plain HTTP on
 * loopback, as on App Service itself, so `@azure/identity` needs no extra CA for it.
 */
export async function startSandboxIdentityEndpoint(
  options: SandboxIdentityEndpointOptions,
): Promise<SandboxIdentityEndpoint> {
  const secret = options.secret ?? randomBytes(24).toString('base64url');
  let issued = 0;
  const server: Server = createServer((req, res) => {
    const result = answer(req, options.issuer, secret, options.systemAssignedClientId);
    if (result.status === 200) issued++;
    else
      options.logger?.info(
        { status: result.status, why: result.body.message },
        'identity token request refused',
      );
    send(res, result.status, result.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/msi/token`;
  return {
    url,
    secret,
    environment: () => ({ IDENTITY_ENDPOINT: url, IDENTITY_HEADER: secret }),
    get issued() {
      return issued;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function answer(
  req: IncomingMessage,
  issuer: SandboxEntraIssuer,
  secret: string,
  systemAssignedClientId: string | undefined,
): Answer {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const fail = (status: number, message: string): Answer => ({
    status,
    body: { statusCode: status, message },
  });
  if (req.method !== 'GET' || url.pathname !== '/msi/token') return fail(404, 'not found');
  const presented = req.headers['x-identity-header'];
  if (typeof presented !== 'string' || !sameSecret(presented, secret))
    return fail(401, 'the X-IDENTITY-HEADER secret is missing or wrong');
  if (url.searchParams.get('api-version') !== APP_SERVICE_MSI_API_VERSION)
    return fail(400, `api-version must be ${APP_SERVICE_MSI_API_VERSION}`);
  const resource = url.searchParams.get('resource');
  if (!resource) return fail(400, 'resource is required');
  for (const unsupported of ['principal_id', 'object_id', 'mi_res_id'])
    if (url.searchParams.has(unsupported))
      return fail(400, `${unsupported} is not supported by the sandbox; use client_id`);
  const clientId = url.searchParams.get('client_id') ?? undefined;
  const identity = issuer.identity(clientId ?? systemAssignedClientId);
  if (!identity)
    return fail(
      400,
      clientId ? `no managed identity with client id ${clientId} is assigned` : 'no identity is assigned',
    );
  const minted = issuer.mint(identity, { audience: resource.replace(/\/\.default$/, '') });
  return {
    status: 200,
    body: {
      access_token: minted.token,
      expires_on: String(minted.expiresOnSec),
      resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    },
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
