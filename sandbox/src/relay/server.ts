import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { createLogger } from '../../../modules/common/src/log';
import { createSasToken, relayResourceUri } from '../../../modules/common/src/hc/sas';
import { generateSandboxPki, type SandboxPki } from '../tls/pki';
import { createAdminHandler } from './admin-api';
import type { RelayContext } from './context';
import type { ControlChannel } from './control-channel';
import { DEFAULT_MAX_IN_FLIGHT_BYTES } from './frame-pump';
import { rejectUpgrade, withTrackingId } from './http-response';
import { resolveLatencyProfile } from './latency';
import { ListenerRegistry, MAX_LISTENERS_PER_HYBRID_CONNECTION } from './listener-registry';
import { RelayManagement, type AccessKeys } from './management';
import { NamespaceRegistry, ROOT_RULE_NAME } from './namespace-registry';
import { DEFAULT_ACCEPT_TIMEOUT_MS, type SandboxRelayOptions } from './options';
import { RendezvousTable } from './rendezvous';
import { createCounters } from './stats';
import { TimerSet } from './timers';
import { TunnelRegistry } from './tunnels';
import { routeUpgrade } from './upgrade-router';

/** A running sandbox relay: where it is, how to trust and manage it, and how to stop it. */
export interface SandboxRelay extends Omit<RelayManagement, 'scopeOf'> {
  /** `127.0.0.1:PORT`: use it where an Azure namespace host name goes. */
  readonly namespace: string;
  readonly port: number;
  /** `sb://127.0.0.1:PORT/`, the Endpoint of connection strings. */
  readonly endpoint: string;
  /** The CA clients must trust (NODE_EXTRA_CA_CERTS or an explicit `ca` option). */
  readonly caPem: string;
  /** CA and server certificate in use: pass them to a restarted relay so clients keep trusting it. */
  readonly pki: SandboxPki;
  /** The namespace state (pass it to a new relay to restart with the same entities and keys). */
  readonly registry: NamespaceRegistry;
  /** Keys and connection strings of RootManageSharedAccessKey (all rights on the namespace). */
  readonly rootKeys: AccessKeys;
  /** A Manage token for the namespace (admin API), valid for `lifetimeMs` (default 1 h). */
  manageToken(lifetimeMs?: number): string;
  /** Closes every socket and timer; resolves when the port is free. */
  stop(): Promise<void>;
}

/** Starts the sandbox Azure Relay (Hybrid Connections data plane plus admin API) on 127.0.0.1 over TLS. */
export async function startSandboxRelay(options: SandboxRelayOptions = {}): Promise<SandboxRelay> {
  const pki = options.pki ?? (await generateSandboxPki());
  const logger = options.logger ?? createLogger('sandbox-relay', process.env.LOG_LEVEL ?? 'silent');
  const registry = options.registry ?? new NamespaceRegistry();
  const counters = createCounters();
  const random = options.random ?? Math.random;
  const settings = {
    acceptTimeoutMs: options.acceptTimeoutMs ?? DEFAULT_ACCEPT_TIMEOUT_MS,
    maxInFlightBytesPerDirection: options.maxInFlightBytesPerDirection ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
    maxListenersPerHybridConnection:
      options.maxListenersPerHybridConnection ?? MAX_LISTENERS_PER_HYBRID_CONNECTION,
  };
  const protocolChoice = new WeakMap<IncomingMessage, string | false>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    // Azure documents no message size limit; ws's default (100 MiB per message, held whole before it is forwarded)
    // would let one client pin that much here. 4 MiB is 16x what our modules accept, so the sandbox never refuses
    // a message our modules would take (docs/tunnel-protocol.md, "Message size").
    maxPayload: 4 * 1024 * 1024,
    handleProtocols: (_offered, req) => protocolChoice.get(req) ?? false,
  });
  const ctx: RelayContext = {
    namespace: '',
    stopped: false,
    settings,
    registry,
    listeners: new ListenerRegistry<ControlChannel>(settings.maxListenersPerHybridConnection, random),
    rendezvous: new RendezvousTable(),
    tunnels: new TunnelRegistry(counters, settings.maxInFlightBytesPerDirection),
    counters,
    timers: new TimerSet(),
    latency: resolveLatencyProfile(options.latencyProfile),
    wss,
    logger,
    random,
    protocolChoice,
  };
  const management = new RelayManagement(ctx);

  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, createAdminHandler(ctx, management));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => routeUpgrade(ctx, req, socket, head));
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));

  await listen(server, options.port ?? 0);
  const port = (server.address() as { port: number }).port;
  ctx.namespace = `127.0.0.1:${port}`;

  const onDeleted = (name: string): void => closeEntity(ctx, name);
  registry.on('hybridConnectionDeleted', onDeleted);
  if (!registry.findAuthorizationRule(undefined, ROOT_RULE_NAME)) {
    registry.createAuthorizationRule(undefined, ROOT_RULE_NAME, ['Listen', 'Send', 'Manage']);
    if (options.rootKey) registry.regenerateKey(undefined, ROOT_RULE_NAME, 'PrimaryKey', options.rootKey);
  }
  for (const hc of options.hybridConnections ?? []) {
    if (typeof hc === 'string') registry.createHybridConnection(hc);
    else registry.createHybridConnection(hc.name, hc);
  }
  logger.info({ namespace: ctx.namespace, latency: ctx.latency.name }, 'sandbox relay listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      ctx.stopped = true;
      registry.off('hybridConnectionDeleted', onDeleted);
      ctx.timers.clearAll();
      for (const pending of ctx.rendezvous.list()) {
        ctx.rendezvous.take(pending.key);
        pending.senderSocket.destroy();
      }
      for (const channel of ctx.listeners.list()) channel.terminate();
      for (const tunnel of ctx.tunnels.list()) {
        tunnel.sender.terminate();
        tunnel.listener.terminate();
      }
      for (const socket of sockets) socket.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info({ namespace: ctx.namespace }, 'sandbox relay stopped');
    })());

  const bind = <K extends keyof RelayManagement>(name: K) =>
    (management[name] as (...args: unknown[]) => unknown).bind(management) as RelayManagement[K];
  return {
    namespace: ctx.namespace,
    port,
    endpoint: `sb://${ctx.namespace}/`,
    caPem: pki.caPem,
    pki,
    registry,
    get rootKeys() {
      return management.listKeys(undefined, ROOT_RULE_NAME);
    },
    manageToken: (lifetimeMs = 60 * 60 * 1000) =>
      createSasToken({
        resource: relayResourceUri(ctx.namespace),
        keyName: ROOT_RULE_NAME,
        key: registry.getAuthorizationRule(undefined, ROOT_RULE_NAME).primaryKey,
        lifetimeMs,
      }),
    createHybridConnection: bind('createHybridConnection'),
    getHybridConnection: bind('getHybridConnection'),
    listHybridConnections: bind('listHybridConnections'),
    deleteHybridConnection: bind('deleteHybridConnection'),
    createAuthorizationRule: bind('createAuthorizationRule'),
    listAuthorizationRules: bind('listAuthorizationRules'),
    deleteAuthorizationRule: bind('deleteAuthorizationRule'),
    listKeys: bind('listKeys'),
    regenerateKey: bind('regenerateKey'),
    dropListeners: bind('dropListeners'),
    stats: bind('stats'),
    stop,
  };
}

/** Closes everything of a deleted hybrid connection with the documented 1001 ("path has been deleted"). */
function closeEntity(ctx: RelayContext, name: string): void {
  const reason = 'The Hybrid Connection path has been deleted.';
  for (const channel of ctx.listeners.list(name)) channel.close(1001, reason);
  for (const tunnel of ctx.tunnels.list(name)) {
    tunnel.sender.close(1001, reason);
    tunnel.listener.close(1001, reason);
  }
  for (const pending of ctx.rendezvous.list()) {
    if (pending.hcName.toLowerCase() !== name.toLowerCase()) continue;
    ctx.rendezvous.take(pending.key);
    pending.releaseSender();
    rejectUpgrade(
      pending.senderSocket,
      404,
      withTrackingId('Endpoint not found: the hybrid connection was deleted.', ctx.namespace, name),
    );
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
