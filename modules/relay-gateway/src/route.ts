import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../../common/src/log';
import type { SocketEndpoint } from '../../common/src/net/proxy-protocol';
import type { RepeatLog } from '../../common/src/repeat-log';
import { admitClient, ConnectionBudget } from './admission';
import type { RouteChange } from './config/diff';
import type { GatewayHybridConnection, GatewayRoute } from './config/types';
import type { GatewayEvents } from './events';
import { terminateMtls, type ClientIdentity } from './mtls/mtls-handshake';
import { readProxyIntake } from './proxy-intake';
import { peekServerName, pickSniTarget, type SniTarget } from './sni/sni-routing';
import type { RefusalReason } from './reasons';
import { ListenError, RouteListener, type ListenErrorCode } from './route-listener';
import { ClientSession, type SessionCloseReason, type SessionResult } from './session';
import { RouteCounters, type RouteCountersSnapshot } from './stats';
import type { TunnelOpener } from './tunnel-opener';

/** Lifecycle of a route: `refused` when its port could not be opened, `draining` after removal. */
export type RouteStatus = 'starting' | 'listening' | 'refused' | 'disabled' | 'draining' | 'stopped';

/** What a route reports about itself (for twins, health and metrics). */
export interface RouteState {
  readonly id: string;
  readonly status: RouteStatus;
  readonly port: number;
  /** The port actually bound (differs from `port` when the route asked for 0). */
  readonly boundPort?: number;
  readonly bindAddress: string;
  readonly hybridConnection: string;
  readonly service: string;
  /** Why the port could not be opened (status `refused`). */
  readonly error?: { readonly code: ListenErrorCode; readonly message: string };
  /** The latest relay-side failure of its tunnels (auth, no listener, relay down), until a tunnel opens again. */
  readonly relayFault?: RouteRelayFault;
  readonly counters: RouteCountersSnapshot;
}

/** A route's latest relay-side tunnel failure: reported per route, never a readiness reason of its own. */
export interface RouteRelayFault {
  readonly reason: string;
  readonly code?: string;
  readonly atMs: number;
}

/** What every route shares with the gateway. */
export interface RouteContext {
  readonly opener: TunnelOpener;
  readonly globalBudget: ConnectionBudget;
  readonly logger: Logger;
  /** Where refusals are logged, summarised per route and reason. */
  readonly refusalLog: RepeatLog;
  readonly events: EventEmitter<GatewayEvents>;
  /** The current object for a hybrid connection name (replaced when its credentials change). */
  hybridConnection(name: string): GatewayHybridConnection | undefined;
}

/**
 * One route at run time: its listening socket, its admitted clients and its counters. Configuration changes
 * are applied in place (see `update`): only a changed port or bind address replaces the listening socket,
 * and live connections stay with the route whatever changes, unless the allow-list no longer admits them.
 */
export class RouteRuntime {
  private listener: RouteListener | undefined;
  private status: RouteStatus = 'starting';
  private listenError: ListenError | undefined;
  private readonly sessions = new Set<ClientSession>();
  private readonly preludes = new Set<Socket>();
  private readonly budget: ConnectionBudget;
  private readonly counters = new RouteCounters();
  private readonly idleWaiters = new Set<() => void>();
  private disabledDrainTimer: NodeJS.Timeout | undefined;

  constructor(
    private route: GatewayRoute,
    private readonly ctx: RouteContext,
  ) {
    this.budget = new ConnectionBudget(route.maxConnections);
  }

  /** The route id (map key). */
  get id(): string {
    return this.route.id;
  }

  /** The status now (cheaper than `state()`, which also snapshots the counters). */
  get currentStatus(): RouteStatus {
    return this.status;
  }

  /** Admitted clients not yet closed. */
  get activeConnections(): number {
    return this.sessions.size;
  }

  /** Opens the port if the route is enabled; a failure leaves the route `refused` (see `state().error`). */
  async start(): Promise<void> {
    if (!this.route.enabled) {
      this.setStatus('disabled');
      return;
    }
    await this.listen();
  }

  /** Tries the port again if it could not be opened last time (called on every apply). */
  async retryIfRefused(): Promise<void> {
    if (this.status === 'refused' && this.route.enabled) await this.listen();
  }

  /** Applies a changed route. `drainTimeoutMs` bounds how long connections of a disabled route may stay. */
  async update(route: GatewayRoute, change: RouteChange, drainTimeoutMs: number): Promise<void> {
    this.route = route;
    this.budget.setLimit(route.maxConnections);
    if (change.fields.includes('allow')) this.closeSessionsNotAllowed();
    if (!route.enabled) {
      if (this.status !== 'disabled') {
        this.releasePort();
        this.dropPreludes();
        this.setStatus('disabled');
        this.scheduleDisabledDrain(drainTimeoutMs);
      }
      return;
    }
    clearTimeout(this.disabledDrainTimer);
    if (change.rebind || this.status === 'disabled' || this.status === 'refused') {
      this.releasePort();
      await this.listen();
    }
  }

  /**
   * Stops accepting and lets live connections finish for up to `drainTimeoutMs`, then closes the rest.
   * Resolves when the last connection is gone.
   */
  async retire(drainTimeoutMs: number): Promise<void> {
    clearTimeout(this.disabledDrainTimer);
    this.releasePort();
    this.setStatus('draining');
    this.dropPreludes();
    if (this.sessions.size > 0) {
      this.log('info', { active: this.sessions.size, drainTimeoutMs }, 'route removed: draining connections');
      const timer = setTimeout(() => this.closeAll('drain-timeout'), drainTimeoutMs);
      await this.whenIdle();
      clearTimeout(timer);
    }
    this.setStatus('stopped');
  }

  /** Ends every connection now (shutdown after the drain time, or a forced stop). */
  closeAll(reason: SessionCloseReason): void {
    this.dropPreludes();
    for (const session of this.sessions) session.close(reason);
  }

  /** Resolves once no connection is left. */
  whenIdle(): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /** The route's status and counters now. */
  state(): RouteState {
    const r = this.route;
    const bound = this.listener?.boundAddress;
    return {
      id: r.id,
      status: this.status,
      port: r.port,
      ...(bound && { boundPort: bound.port }),
      bindAddress: r.bindAddress,
      hybridConnection: r.hybridConnection,
      service: r.service,
      ...(this.status === 'refused' &&
        this.listenError && { error: { code: this.listenError.code, message: this.listenError.message } }),
      counters: this.counters.snapshot(this.sessions.size, this.sessions),
    };
  }

  private async listen(): Promise<void> {
    const listener = new RouteListener(this.route, (socket) => this.onConnection(socket));
    try {
      await listener.listen();
    } catch (err) {
      this.listenError =
        err instanceof ListenError ? err : new ListenError('LISTEN_FAILED', String(err), { cause: err });
      this.log(
        'error',
        { code: this.listenError.code, err: this.listenError.message },
        'route refused: cannot listen',
      );
      this.setStatus('refused');
      return;
    }
    this.listener = listener;
    this.listenError = undefined;
    this.log('info', { address: listener.boundAddress }, 'route listening');
    this.setStatus('listening');
  }

  /** Closes the listening socket now (live connections stay), so another route may bind the port. */
  releasePort(): void {
    this.listener?.close();
    this.listener = undefined;
    // Warm relay connections serve only new clients: none are held for a port that is closed.
    this.ctx.opener.releaseRoute?.(this.route.id);
  }

  // Not a child logger: the gateway changes the root logger's level when the configuration says so.
  private log(level: 'debug' | 'info' | 'warn' | 'error', fields: object, message: string): void {
    this.ctx.logger[level]({ routeId: this.route.id, ...fields }, message);
  }

  private onConnection(socket: Socket): void {
    const intake = this.route.acceptProxyProtocol;
    if (!intake) return this.admit(socket, undefined);
    // A trusted front announces the real client first (PROXY protocol); the allow-list then judges that client.
    socket.on('error', noop);
    const done = this.trackPrelude(socket);
    void readProxyIntake(socket, intake).then((result) => {
      done();
      socket.off('error', noop);
      // Destroyed: the client left, or the route was removed while the header was arriving.
      if (socket.destroyed)
        this.refuse(socket, 'client-aborted', result.ok ? result.client?.address : socket.remoteAddress);
      else if (result.ok) this.admit(socket, result.client);
      else this.refuse(socket, result.reason, socket.remoteAddress, result.message);
    });
  }

  private admit(socket: Socket, client: SocketEndpoint | undefined): void {
    const route = this.route;
    const remoteAddress = client?.address ?? socket.remoteAddress;
    const admission = admitClient(remoteAddress, route.allowList, this.budget, this.ctx.globalBudget);
    if (!admission.ok) return this.refuse(socket, admission.reason, remoteAddress);
    if (route.mtls) {
      // The handshake and certificate checks finish before any relay work; the slot is held meanwhile.
      const endpoint = client ?? peerOf(socket);
      const done = this.trackPrelude(socket);
      void terminateMtls(socket, route.mtls).then((result) => {
        done();
        if (result.ok)
          return this.startSession(result.socket, admission.release, endpoint, route, result.identity);
        admission.release();
        this.refuse(socket, result.reason, remoteAddress, result.message);
      });
      return;
    }
    if (!route.sni) return this.startSession(socket, admission.release, client, route);
    const sni = route.sni;
    // Holds its slot while the ClientHello arrives (bounded by helloTimeoutMs), so slow hellos count as clients.
    socket.on('error', noop);
    const done = this.trackPrelude(socket);
    void peekServerName(socket, sni.helloTimeoutMs).then((peek) => {
      done();
      socket.off('error', noop);
      const target = peek.ok ? pickSniTarget(sni, peek.serverName) : undefined;
      if (!target || socket.destroyed) {
        admission.release();
        if (socket.destroyed) return this.refuse(socket, 'client-aborted', remoteAddress);
        if (!peek.ok) return this.refuse(socket, 'sni-malformed', remoteAddress, peek.message);
        const name = peek.serverName === undefined ? 'no server name' : `server name "${peek.serverName}"`;
        return this.refuse(socket, 'sni-unknown', remoteAddress, `${name} is not configured`);
      }
      this.startSession(socket, admission.release, client, target === 'default' ? route : target);
    });
  }

  private startSession(
    socket: Socket,
    release: () => void,
    client: SocketEndpoint | undefined,
    target: SniTarget,
    clientCertificate?: ClientIdentity,
  ): void {
    const route = this.route;
    const hybridConnection = this.ctx.hybridConnection(target.hybridConnection);
    if (!hybridConnection) {
      // Only possible when an apply removed it while this client's ClientHello was arriving.
      release();
      return this.refuse(socket, 'sni-unknown', socket.remoteAddress, 'hybrid connection removed');
    }
    const session = new ClientSession(
      socket,
      {
        routeId: route.id,
        hybridConnection,
        service: target.service,
        connectTimeoutMs: route.connectTimeoutMs,
        idleTimeoutMs: route.idleTimeoutMs,
        warm: { maxSize: route.warmConnections, maxIdleMs: route.warmMaxIdleMs },
        ...(route.multiplex && { mux: { maxConnections: route.muxConnections } }),
        ...(client && { client }),
        ...(clientCertificate && { clientCertificate }),
      },
      this.ctx.opener,
    );
    this.sessions.add(session);
    this.counters.countAccepted();
    const base = { routeId: route.id, connectionId: session.id, remoteAddress: session.remoteAddress };
    this.ctx.events.emit('connection', base);
    void session
      .run(
        () => {
          this.counters.countTunneled();
          this.ctx.events.emit('tunnel-open', {
            ...base,
            bytes: session,
            relayConnectionId: session.relayConnectionId,
          });
        },
        () => this.ctx.events.emit('relay-connected', base),
      )
      .then((result) => this.onSessionEnd(session, result, base))
      .finally(() => {
        release();
        this.sessions.delete(session);
        if (this.sessions.size > 0) return;
        clearTimeout(this.disabledDrainTimer);
        for (const wake of this.idleWaiters) wake();
        this.idleWaiters.clear();
      });
  }

  /** Tracks a client still in its prelude (PROXY header, ClientHello, mTLS handshake): it has no session yet. */
  private trackPrelude(socket: Socket): () => void {
    this.preludes.add(socket);
    return () => this.preludes.delete(socket);
  }

  // A removed route or a stopping gateway does not wait for preludes: they hold no tunnel, so they are cut.
  private dropPreludes(): void {
    for (const socket of this.preludes) socket.resetAndDestroy();
    this.preludes.clear();
  }

  private refuse(
    socket: Socket,
    reason: RefusalReason,
    remoteAddress: string | undefined,
    detail?: string,
  ): void {
    const route = this.route;
    this.counters.countRefused(reason);
    // Summarised (one line per route and reason per interval): refusals come as fast as clients can connect.
    // Allow-list refusals and clients that left stay at debug (scanners would flood the log).
    this.ctx.refusalLog.record(
      WARN_REFUSALS.has(reason) ? 'warn' : 'debug',
      `${route.id}\n${reason}`,
      { routeId: route.id, reason, remoteAddress, ...(detail !== undefined && { detail }) },
      'client refused',
    );
    this.ctx.events.emit('refused', { routeId: route.id, remoteAddress, reason });
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  }

  private onSessionEnd(session: ClientSession, result: SessionResult, base: ConnectionBase): void {
    const durationMs = Date.now() - session.startedAtMs;
    if (result.kind === 'failed') {
      this.counters.countFailed(result.reason);
      const error = describe(result.error);
      // connectionId is the sb-hc-id: the relay's and the forwarder's tracking id for this attempt. The message
      // names the cause too, for readers who only see message text.
      this.log(
        'warn',
        {
          ...base,
          ...(session.relayConnectionId !== session.id && { relayConnectionId: session.relayConnectionId }),
          reason: result.reason,
          ...error,
          durationMs,
        },
        `tunnel failed: ${result.reason.replace(/-/g, ' ')}`,
      );
      this.ctx.events.emit('tunnel-failed', {
        ...base,
        reason: result.reason,
        error: result.error,
        ...(session.relayConnectionId !== session.id && { relayConnectionId: session.relayConnectionId }),
      });
      return;
    }
    this.counters.countEnded(result, result.reason);
    const fields = {
      ...base,
      bytesFromClient: result.bytesFromClient,
      bytesToClient: result.bytesToClient,
      durationMs,
    };
    if (result.reason)
      this.log(
        'info',
        { ...fields, reason: result.reason, ...describe(result.error) },
        'tunnel ended abnormally',
      );
    else this.log('debug', fields, 'tunnel closed');
    this.ctx.events.emit('connection-closed', { ...fields, ...(result.reason && { reason: result.reason }) });
  }

  private closeSessionsNotAllowed(): void {
    for (const session of this.sessions) {
      if (!this.route.allowList.allows(session.remoteAddress)) {
        this.log(
          'info',
          { connectionId: session.id, remoteAddress: session.remoteAddress },
          'allow-list changed: closing',
        );
        session.close('not-allowed');
      }
    }
  }

  private scheduleDisabledDrain(drainTimeoutMs: number): void {
    clearTimeout(this.disabledDrainTimer);
    if (this.sessions.size === 0) return;
    const draining = new Set(this.sessions);
    this.disabledDrainTimer = setTimeout(() => {
      for (const session of draining) session.close('drain-timeout');
    }, drainTimeoutMs);
  }

  private setStatus(status: RouteStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.ctx.events.emit('route-state', this.state());
  }
}

const noop = (): void => undefined;

// Limits, a misbehaving trusted front and a revoked certificate in use are worth a warning; the rest is what
// scanners and stray clients cause all day.
const WARN_REFUSALS: ReadonlySet<RefusalReason> = new Set([
  'route-limit',
  'global-limit',
  'proxy-malformed',
  'mtls-revoked',
]);

// The raw peer, kept for the session: a TLSSocket wrapping a socket reports it through its parent.
function peerOf(socket: Socket): SocketEndpoint | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress !== undefined && remotePort !== undefined
    ? { address: remoteAddress, port: remotePort }
    : undefined;
}

interface ConnectionBase {
  readonly routeId: string;
  readonly connectionId: string;
  readonly remoteAddress: string | undefined;
}

function describe(err: unknown): { code?: string; status?: number; closeCode?: number; err?: string } {
  if (!(err instanceof Error)) return err === undefined ? {} : { err: String(err) };
  const e = err as Error & { code?: unknown; status?: unknown; closeCode?: unknown };
  return {
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(typeof e.status === 'number' && { status: e.status }),
    ...(typeof e.closeCode === 'number' && { closeCode: e.closeCode }),
    err: e.message,
  };
}
