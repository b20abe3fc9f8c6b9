import { setMaxListeners } from 'node:events';
import type WebSocket from 'ws';
import {
  ACCEPT,
  rejectWith,
  type AcceptDecision,
  type AcceptRequest,
} from '../../../common/src/hc/accept-message';
import type { RelayTlsOptions } from '../../../common/src/hc/endpoint';
import type { RelayError } from '../../../common/src/hc/errors';
import {
  HybridConnectionListener,
  type HybridConnectionListenerOptions,
} from '../../../common/src/hc/listener';
import type { Logger } from '../../../common/src/log';
import { RepeatLog } from '../../../common/src/repeat-log';
import { formatTarget } from '../../../common/src/net/target';
import type { HybridConnectionChange } from '../config/diff';
import type { HybridConnectionConfig, ServiceConfig } from '../config/types';
import { CredentialTokenProvider } from './credential-token-provider';
import { drainTunnels } from './drain';
import {
  ServiceCounters,
  type ConnectionRefusalReason,
  type HybridConnectionState,
  type ListenerErrorInfo,
} from './stats';
import { DEFAULT_MUX_MAX_STREAMS, offersMux } from '../../../common/src/mux/negotiate';
import type { MuxSession } from '../../../common/src/mux/session';
import { runMuxConnection } from './mux-connection';
import type { LiveTunnel, TunnelSessionHost } from './session-host';
import type { TunnelEventSink } from './tunnel-events';
import { runTunnelSession } from './tunnel-session';

/** Default wait for the preamble on a warm connection: above the gateway's default recycle time (50 s). */
export const DEFAULT_WARM_PREAMBLE_TIMEOUT_MS = 120_000;
/** Listener settings the runtime passes through (tests shorten pings and backoff). */
export type ListenerTuning = Omit<HybridConnectionListenerOptions, 'acceptHandler' | 'logger' | 'id'>;

/** What happened to the control channels of one hybrid connection. */
export interface ListenerStateEvent {
  readonly hybridConnection: string;
  readonly online: number;
  readonly configured: number;
  /** Set when this change was caused by a failure. */
  readonly error?: ListenerErrorInfo;
}

/** Receives tunnel and listener events from a runtime. */
export interface RuntimeEventSink extends TunnelEventSink {
  listenerState(info: ListenerStateEvent): void;
}

/** Options for HybridConnectionRuntime. */
export interface HybridConnectionRuntimeOptions {
  readonly log: Logger;
  readonly events: RuntimeEventSink;
  /** Extra CA for the relay's TLS (the sandbox). */
  readonly tls?: RelayTlsOptions;
  readonly listener?: ListenerTuning;
  /** Lifetime of tokens minted from a key. */
  readonly tokenLifetimeMs?: number;
  /** How long a sender may take to send its preamble. */
  readonly preambleTimeoutMs?: number;
  /** The same for a connection a gateway opened ahead of a client (`x-hrf-warm`); default 120 s. */
  readonly warmPreambleTimeoutMs?: number;
  /** Streams served at once on one multiplexed connection (default 1,024; the configuration's value wins); 0 refuses multiplexing. */
  readonly muxMaxStreams?: number;
}

/**
 * Serves one configured hybrid connection: N parallel control channels, the service table senders are mapped
 * through, and every live tunnel. Configuration changes apply in place: services and limits for new tunnels at
 * once, a new credential through renewToken on the live channels, a new listener count by adding or closing
 * channels; only a new namespace or path reopens the channels. Live tunnels are never touched by a change
 * unless their service was removed or disabled, in which case they drain.
 */
export class HybridConnectionRuntime {
  private config: HybridConnectionConfig;
  private readonly tokenProvider: CredentialTokenProvider;
  private listeners: HybridConnectionListener[] = [];
  private readonly counters = new Map<string, ServiceCounters>();
  private readonly refused: Record<ConnectionRefusalReason, number> = {
    'unknown-service': 0,
    'bad-preamble': 0,
    closing: 0,
  };
  private readonly tunnels = new Set<LiveTunnel>();
  private readonly sessions = new Set<Promise<void>>();
  private readonly drains = new Set<Promise<unknown>>();
  /** Counters of control channels already closed, so totals stay monotonic. */
  private retired = { reconnects: 0, tokenRenewals: 0 };
  private warmConnections = 0;
  private muxConnections = 0;
  /** Multiplexed connections open now (for their stream counts). */
  private readonly muxSessions = new Set<MuxSession>();
  private lastError: ListenerErrorInfo | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private drainDeadlineAtMs: number | undefined;
  private drainDeadlinePassed = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly shutdown = new AbortController();
  private readonly log: Logger;
  private readonly host: TunnelSessionHost;
  private readonly refusalLog: RepeatLog;

  constructor(
    config: HybridConnectionConfig,
    private readonly options: HybridConnectionRuntimeOptions,
  ) {
    this.config = config;
    this.log = options.log.child({ hybridConnection: config.name });
    this.refusalLog = new RepeatLog(this.log);
    this.tokenProvider = new CredentialTokenProvider(config.credential, options.tokenLifetimeMs);
    // Every relay connection waiting for its preamble watches this signal with one abort listener, which the
    // handshake takes off again when the preamble arrives, times out or the socket closes. Their number is the
    // number of connections in that phase (any burst of senders), not a leak, so Node's leak warning at 11 would
    // only print noise on stderr.
    setMaxListeners(0, this.shutdown.signal);
    this.host = this.sessionHost();
  }

  /** The configuration in force. */
  get current(): HybridConnectionConfig {
    return this.config;
  }

  /** The control channels (for tests and diagnostics). */
  get controlChannels(): readonly HybridConnectionListener[] {
    return this.listeners;
  }

  /** Opens the configured number of control channels. */
  start(): void {
    this.log.info(
      { namespace: this.config.namespace, path: this.config.path, listeners: this.config.listeners },
      'hybrid connection starting',
    );
    this.resizeListeners(this.config.listeners);
  }

  /** Applies a change of this hybrid connection's configuration (see the class comment); never drops unrelated tunnels. */
  apply(change: HybridConnectionChange, drainTimeoutMs: number): void {
    const before = this.config;
    this.config = change.after;
    const s = change.services;
    if (s.added.length + s.removed.length + s.changed.length > 0)
      this.log.info({ added: s.added, removed: s.removed, changed: s.changed }, 'services updated');
    for (const name of s.removed) this.counters.delete(name);
    const retiring = new Set([...s.removed, ...s.disabled]);
    if (retiring.size > 0) this.drainServices(retiring, drainTimeoutMs);

    if (change.credentialChanged) this.tokenProvider.update(change.after.credential);
    if (change.endpointChanged) {
      this.log.info(
        { from: `${before.namespace}/${before.path}`, to: `${change.after.namespace}/${change.after.path}` },
        'endpoint changed; reopening control channels',
      );
      // Live tunnels do not depend on the control channel: they keep running.
      this.retireListeners(this.listeners.splice(0));
      this.resizeListeners(change.after.listeners);
      return;
    }
    if (change.credentialChanged) {
      this.log.info(
        { kind: change.after.credential.kind },
        'credential changed; renewing on live control channels',
      );
      for (const listener of this.listeners) void listener.renewToken();
    }
    if (change.listenersChanged) this.resizeListeners(change.after.listeners);
  }

  /**
   * Stops accepting (closes every control channel), lets live tunnels finish for up to `drainTimeoutMs`, then
   * aborts the rest. Resolves when no socket or timer of this hybrid connection is left. Calling it again with
   * a shorter drain time brings the deadline forward.
   */
  close(drainTimeoutMs: number): Promise<void> {
    this.closing = true;
    this.shutdown.abort();
    this.setDrainDeadline(drainTimeoutMs);
    this.closed ??= this.closeNow();
    return this.closed;
  }

  private async closeNow(): Promise<void> {
    const listeners = this.listeners.splice(0);
    await Promise.all(listeners.map((l) => l.close({ connections: 'keep' })));
    for (const l of listeners) this.retireCounters(l);
    this.emitListenerState();
    while (this.tunnels.size > 0) await Promise.all([...this.tunnels].map((t) => t.done));
    clearTimeout(this.drainTimer);
    // Sessions still reading a preamble were aborted by the shutdown signal; wait so nothing outlives us.
    await Promise.all([...this.sessions, ...this.drains]);
    this.refusalLog.close();
    this.log.info({}, 'hybrid connection closed');
  }

  private setDrainDeadline(timeoutMs: number): void {
    const atMs = Date.now() + timeoutMs;
    if (this.drainDeadlineAtMs !== undefined && this.drainDeadlineAtMs <= atMs) return;
    this.drainDeadlineAtMs = atMs;
    clearTimeout(this.drainTimer);
    if (timeoutMs <= 0) this.abortTunnels();
    else this.drainTimer = setTimeout(() => this.abortTunnels(), timeoutMs);
  }

  private abortTunnels(): void {
    this.drainDeadlinePassed = true;
    let aborted = 0;
    for (const tunnel of this.tunnels) if (tunnel.abort('hybrid connection closing')) aborted += 1;
    if (aborted > 0) this.log.info({ aborted }, 'drain deadline reached; tunnels aborted');
  }

  /** Sets the level of this hybrid connection's logger (pino children do not follow their parent). */
  setLogLevel(level: string): void {
    this.log.level = level;
  }

  /** Live tunnels (dialing or pumping). */
  get activeTunnels(): number {
    return this.tunnels.size;
  }

  /** A snapshot for reporting. */
  state(): HybridConnectionState {
    const services: Record<string, HybridConnectionState['services'][string]> = {};
    for (const service of this.config.services.values()) {
      const stats = this.countersFor(service.name).snapshot();
      services[service.name] = {
        ...stats,
        ...this.liveBytes(service.name, stats),
        enabled: service.enabled,
        target: formatTarget(service.target),
      };
    }
    const configured = new Set(this.config.services.keys());
    const draining = [...this.tunnels].filter(
      (t) => !configured.has(t.service) || !this.config.services.get(t.service)!.enabled,
    );
    const credential = this.config.credential;
    return {
      name: this.config.name,
      namespace: this.config.namespace,
      path: this.config.path,
      listeners: this.config.listeners,
      onlineListeners: this.listeners.filter((l) => l.state === 'online').length,
      reconnects: this.retired.reconnects + sum(this.listeners, (l) => l.stats.reconnects),
      tokenRenewals: this.retired.tokenRenewals + sum(this.listeners, (l) => l.stats.tokenRenewals),
      ...(this.lastError && { lastError: this.lastError }),
      ...(credential.kind === 'token' && { tokenExpiresAtMs: credential.expiresAtMs }),
      refused: { ...this.refused },
      services,
      drainingTunnels: draining.length,
      ...(this.warmConnections > 0 && { warmConnections: this.warmConnections }),
      ...(this.muxConnections > 0 && { muxConnections: this.muxConnections, mux: this.muxState() }),
    };
  }

  // Bytes of tunnels still open are added to the totals of ended ones, so a long transfer shows progress.
  private liveBytes(service: string, stats: { bytesToTarget: number; bytesFromTarget: number }) {
    let bytesToTarget = stats.bytesToTarget;
    let bytesFromTarget = stats.bytesFromTarget;
    for (const t of this.tunnels) {
      if (t.service !== service) continue;
      bytesToTarget += t.bytesToTarget;
      bytesFromTarget += t.bytesFromTarget;
    }
    return { bytesToTarget, bytesFromTarget };
  }

  private countersFor(service: string): ServiceCounters {
    let counters = this.counters.get(service);
    if (!counters) {
      counters = new ServiceCounters();
      this.counters.set(service, counters);
    }
    return counters;
  }

  private drainServices(services: ReadonlySet<string>, drainTimeoutMs: number): void {
    const tunnels = [...this.tunnels].filter((t) => services.has(t.service));
    if (tunnels.length === 0) return;
    this.log.info({ services: [...services], tunnels: tunnels.length, drainTimeoutMs }, 'draining tunnels');
    const drain = drainTunnels(tunnels, drainTimeoutMs, 'service removed').then((aborted) => {
      if (aborted > 0) this.log.info({ aborted }, 'drain deadline reached; tunnels aborted');
    });
    this.track(this.drains, drain);
  }

  private resizeListeners(count: number): void {
    while (this.listeners.length < count) this.listeners.push(this.openListener());
    if (this.listeners.length > count) {
      // Close the ones that are not online first: they carry nothing, and the online ones keep serving.
      const ordered = [...this.listeners].sort((a, b) => rank(a) - rank(b));
      const closing = ordered.slice(0, this.listeners.length - count);
      this.listeners = this.listeners.filter((l) => !closing.includes(l));
      this.retireListeners(closing);
    }
    this.emitListenerState();
  }

  private retireListeners(listeners: readonly HybridConnectionListener[]): void {
    for (const listener of listeners) {
      const closed = listener.close({ connections: 'keep' }).then(() => {
        this.retireCounters(listener);
        this.emitListenerState();
      });
      this.track(this.drains, closed);
    }
  }

  private retireCounters(listener: HybridConnectionListener): void {
    this.retired.reconnects += listener.stats.reconnects;
    this.retired.tokenRenewals += listener.stats.tokenRenewals;
  }

  private openListener(): HybridConnectionListener {
    const listener = new HybridConnectionListener(
      {
        namespace: this.config.namespace,
        path: this.config.path,
        tokenProvider: this.tokenProvider,
        ...(this.options.tls && { tls: this.options.tls }),
      },
      { ...this.options.listener, acceptHandler: (request) => this.decide(request), logger: this.log },
    );
    listener.on('online', () => {
      this.hurrySiblings(listener);
      this.emitListenerState();
    });
    listener.on('offline', (error) => this.noteError(error));
    listener.on('error', (error) => this.noteError(error, false));
    listener.on('connection', (ws, request) => this.onConnection(ws, request));
    listener.start();
    return listener;
  }

  /**
   * One channel reached the relay: the others of this hybrid connection still waiting out their backoff (they
   * failed during the same outage) reconnect now instead of up to the backoff cap (30 s) later, so capacity comes
   * back with the relay. Without this a relay restart left a channel offline for seconds after the relay was back
   * (the chaos suite's "stray forwarder socket": a baseline taken meanwhile was one control channel short).
   */
  private hurrySiblings(online: HybridConnectionListener): void {
    for (const sibling of this.listeners) if (sibling !== online) sibling.reconnectNow();
  }

  private decide(_request: AcceptRequest): AcceptDecision {
    if (!this.closing) return ACCEPT;
    this.refused.closing += 1;
    return rejectWith(503, 'Forwarder shutting down');
  }

  private onConnection(ws: WebSocket, request: AcceptRequest): void {
    if (this.closing) {
      this.refused.closing += 1;
      ws.close(1001, 'going away');
      return;
    }
    // A gateway offering multiplexed streams: this connection carries many tunnels (docs/tunnel-protocol.md).
    const mux = this.host.muxMaxStreams !== 0 && offersMux(request.connectHeaders);
    this.track(
      this.sessions,
      mux
        ? runMuxConnection(ws, request, this.host, (session) => this.followMux(session))
        : runTunnelSession(ws, request, this.host),
    );
  }

  private followMux(session: MuxSession): void {
    this.muxSessions.add(session);
    session.once('close', () => this.muxSessions.delete(session));
  }

  /** Multiplexed connections open now, the streams they carry and the stream bound new ones get. */
  private muxState(): { connections: number; streams: number; maxStreams: number } {
    let streams = 0;
    for (const session of this.muxSessions) streams += session.activeStreams;
    return { connections: this.muxSessions.size, streams, maxStreams: this.host.muxMaxStreams ?? 0 };
  }

  private noteError(error: RelayError, stateChanged = true): void {
    this.lastError = { code: error.code, message: error.message, atMs: Date.now() };
    if (stateChanged) this.emitListenerState();
  }

  private emitListenerState(): void {
    this.options.events.listenerState({
      hybridConnection: this.config.name,
      online: this.listeners.filter((l) => l.state === 'online').length,
      configured: this.config.listeners,
      ...(this.lastError && { error: this.lastError }),
    });
  }

  private track<T>(set: Set<Promise<T>>, work: Promise<T>): void {
    const settled = work.catch((err: unknown) => {
      this.log.error({ err: String(err) }, 'unexpected failure');
    }) as Promise<T>;
    set.add(settled);
    void settled.then(() => set.delete(settled));
  }

  private sessionHost(): TunnelSessionHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- read by a getter of the host object below
    const runtime = this;
    return {
      // A runtime keeps its name for life: a renamed entry is a removal plus an addition.
      hybridConnection: this.config.name,
      service: (portName: string): ServiceConfig | undefined => this.config.services.get(portName),
      counters: (service: string) => this.countersFor(service),
      refusedBeforeService: (reason) => {
        this.refused[reason] += 1;
      },
      register: (tunnel) => {
        this.tunnels.add(tunnel);
        // A session that read its preamble just before the deadline must not slip past it.
        if (this.drainDeadlinePassed) tunnel.abort('hybrid connection closing');
      },
      unregister: (tunnel) => this.tunnels.delete(tunnel),
      log: this.log,
      // One summariser for refusals and dropped datagrams: its keys keep them apart.
      datagramLog: this.refusalLog,
      refusalLog: this.refusalLog,
      events: this.options.events,
      signal: this.shutdown.signal,
      ...(this.options.preambleTimeoutMs !== undefined && {
        preambleTimeoutMs: this.options.preambleTimeoutMs,
      }),
      warmPreambleTimeoutMs: this.options.warmPreambleTimeoutMs ?? DEFAULT_WARM_PREAMBLE_TIMEOUT_MS,
      countWarm: () => {
        this.warmConnections += 1;
      },
      // Read per connection: a configuration change applies to the mux connections opened after it.
      get muxMaxStreams(): number {
        return runtime.config.muxMaxStreams ?? runtime.options.muxMaxStreams ?? DEFAULT_MUX_MAX_STREAMS;
      },
      countMux: () => {
        this.muxConnections += 1;
      },
    };
  }
}

function rank(listener: HybridConnectionListener): number {
  return listener.state === 'online' ? 1 : 0;
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}
