import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createLogger, type Logger } from '../../../modules/common/src/log';
import type { SandboxRelay } from '../relay';
import type { NamespaceRegistry } from '../relay/namespace-registry';
import { generateSandboxPki, type SandboxPki } from '../tls/pki';
import { toArmError, type ArmReply } from './api';
import { SandboxArmCredential, type SandboxArmCredentialOptions } from './credential';
import { ArmError } from './errors';
import { NamespaceCatalog, registryOnly, type DataPlaneFactory } from './namespaces';
import { verifyArmToken, type ArmEntraTrust } from './token';

/** Options of startSandboxArm. Give either `relay` or `registry`. */
export interface SandboxArmOptions {
  /** A running sandbox relay: its registry, namespace host and listener counts back the API. */
  readonly relay?: Pick<SandboxRelay, 'registry' | 'namespace' | 'stats'>;
  /** The namespace state to serve when no `relay` is given (hybrid connections created here are live on any relay sharing it). */
  readonly registry?: NamespaceRegistry;
  /** `host:port` of the data plane for connection strings; default the relay's namespace, else `{namespaceName}.servicebus.windows.net`. */
  readonly relayHost?: string;
  /** TLS material; generated when absent (share the relay's so one CA covers both). */
  readonly pki?: SandboxPki;
  /** Port on `listenHost`; default 0 (ephemeral). */
  readonly port?: number;
  /** Bind address; default 127.0.0.1. */
  readonly listenHost?: string;
  /** Host in the endpoint URL; default 127.0.0.1 (the PKI must cover it). */
  readonly hostName?: string;
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  /** 6-50 characters, as the SDK checks. Default `sandbox-relay`. */
  readonly namespaceName?: string;
  readonly location?: string;
  /** Secret the sandbox signs and checks bearer tokens with; random when absent. */
  readonly tokenSecret?: string;
  /**
   * The sandbox Entra ID issuer to trust besides the secret: the tokens its managed identity endpoint hands to an
   * unmodified DefaultAzureCredential (IDENTITY_ENDPOINT/IDENTITY_HEADER) are accepted, as ARM accepts its tenant's.
   */
  readonly entra?: ArmEntraTrust;
  /** Items per list page before a nextLink; default 100. */
  readonly pageSize?: number;
  readonly logger?: Logger;
  /**
   * More namespaces in the same resource group, each backed by its own sandbox relay (a second data plane on its
   * own port, so its own host): how a fleet with several Relay namespaces is tried locally.
   */
  readonly extraNamespaces?: readonly {
    readonly namespaceName: string;
    readonly relay: Pick<SandboxRelay, 'registry' | 'namespace' | 'stats'>;
  }[];
  /**
   * Starts the data plane of a namespace created through ARM (PUT …/namespaces/{name}), e.g. one more sandbox
   * relay; without it such a namespace has state only (docs/sandbox.md).
   */
  readonly createDataPlane?: DataPlaneFactory;
}

/** A running sandbox ARM endpoint for the Relay resource provider. */
export interface SandboxArm {
  /** `https://{hostName}:{port}`: pass as both `endpoint` and `$host` to `RelayAPI`. */
  readonly endpoint: string;
  readonly port: number;
  readonly caPem: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly namespaceName: string;
  /** The namespaces served at start: `namespaceName` first, then `extraNamespaces` in order. */
  readonly namespaceNames: readonly string[];
  /** Every namespace served now, those created through ARM included. */
  namespaces(): string[];
  /** The secret a SandboxArmCredential needs (hand it to another process through its environment). */
  readonly tokenSecret: string;
  /** A credential whose tokens this sandbox accepts (stands in for DefaultAzureCredential). */
  credential(options?: SandboxArmCredentialOptions): SandboxArmCredential;
  /** `RelayAPI` options for this sandbox: `{ endpoint, $host, tlsOptions: { ca } }`. */
  clientOptions(): { endpoint: string; $host: string; tlsOptions: { ca: string } };
  /** Closes every socket; resolves when the port is free. Idempotent. */
  stop(): Promise<void>;
}

/** Largest request body read (rules and hybrid connections are tiny). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts the Relay subset of Azure Resource Manager over HTTPS with bearer-token auth, backed by the sandbox
 * relay's NamespaceRegistry, so hybrid connections and rules created through `@azure/arm-relay` are usable on
 * the data plane at once.
 */
export async function startSandboxArm(options: SandboxArmOptions): Promise<SandboxArm> {
  const registry = options.relay?.registry ?? options.registry;
  if (!registry) throw new Error('startSandboxArm needs a relay or a registry');
  const log = options.logger ?? createLogger('sandbox-arm', process.env.LOG_LEVEL ?? 'silent');
  const pki = options.pki ?? (await generateSandboxPki());
  const subscriptionId = options.subscriptionId ?? '00000000-0000-4000-8000-000000000001';
  const resourceGroup = options.resourceGroup ?? 'sandbox-rg';
  const namespaceName = options.namespaceName ?? 'sandbox-relay';
  const location = options.location ?? 'westeurope';
  const tokenSecret = options.tokenSecret ?? randomBytes(32).toString('base64');
  const hostName = options.hostName ?? '127.0.0.1';
  const relay = options.relay;
  let endpoint = '';
  const catalog = new NamespaceCatalog({
    subscriptionId,
    resourceGroup,
    location,
    baseUrl: () => endpoint,
    pageSize: options.pageSize ?? 100,
    ...(options.createDataPlane !== undefined && { createDataPlane: options.createDataPlane }),
    logger: log,
  });
  catalog.add(
    namespaceName,
    relay ?? registryOnly(`${namespaceName}.servicebus.windows.net`, registry),
    options.relayHost ?? relay?.namespace ?? `${namespaceName}.servicebus.windows.net`,
  );
  for (const extra of options.extraNamespaces ?? []) catalog.add(extra.namespaceName, extra.relay);

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'https://sandbox');
    let reply: ArmReply;
    try {
      verifyArmToken(req.headers.authorization, {
        secret: tokenSecret,
        audiences: [endpoint, `${endpoint}/`],
        ...(options.entra && { entra: options.entra }),
      });
      const body = await readJson(req);
      reply = await catalog.handle({
        method: req.method ?? 'GET',
        pathname: url.pathname,
        query: url.searchParams,
        body,
      });
      if (req.method !== 'GET')
        log.info({ method: req.method, path: url.pathname, status: reply.status }, 'arm change');
    } catch (err) {
      const e = toArmError(err);
      req.resume();
      log.info(
        { method: req.method, path: url.pathname, status: e.status, code: e.code },
        'arm request refused',
      );
      reply = { status: e.status, body: e.toBody() };
      if (e.status === 401) {
        res.setHeader(
          'WWW-Authenticate',
          `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${e.message.replace(/"/g, "'")}"`,
        );
      }
    }
    send(res, reply, requestId);
  };

  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'arm handler failed');
      res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  const port = await listen(server, options.port ?? 0, options.listenHost ?? '127.0.0.1');
  endpoint = `https://${hostName}:${port}`;
  log.info({ endpoint, namespace: namespaceName }, 'sandbox ARM listening');

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    caPem: pki.caPem,
    subscriptionId,
    resourceGroup,
    namespaceName,
    namespaceNames: [namespaceName, ...(options.extraNamespaces ?? []).map((e) => e.namespaceName)],
    namespaces: () => catalog.names(),
    tokenSecret,
    credential: (o) => new SandboxArmCredential(tokenSecret, o),
    clientOptions: () => ({ endpoint, $host: endpoint, tlsOptions: { ca: pki.caPem } }),
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }).then(() => catalog.stop())),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ArmError(413, 'InvalidRequestContent', 'The request content is too large.');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ArmError(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized.',
    );
  }
}

function send(res: ServerResponse, reply: ArmReply, requestId: string): void {
  const payload = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': requestId,
    'content-length': String(payload === undefined ? 0 : Buffer.byteLength(payload)),
    ...(payload !== undefined && { 'content-type': 'application/json; charset=utf-8' }),
    ...reply.headers,
  });
  res.end(payload);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
