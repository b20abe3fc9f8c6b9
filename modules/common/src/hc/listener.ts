import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  ACCEPT,
  parseAcceptMessage,
  rejectWith,
  type AcceptDecision,
  type AcceptRequest,
} from './accept-message';
import { Backoff, DEFAULT_BACKOFF_POLICY } from './backoff';
import { AUTHORIZATION_HEADER, endpointResource, listenUrl, type HybridConnectionEndpoint } from './endpoint';
import { RelayError } from './errors';
import { errorForControlClose, toRelayError } from './handshake-errors';
import { KeepAlive } from './keepalive';
import { silentLogger, withLogFields, type RelayLogger } from './logger';
import { closeSocket, openRelaySocket } from './open-socket';
import { openRendezvous, rejectRendezvous } from './rendezvous';
import type {
  HybridConnectionListenerEvents,
  HybridConnectionListenerOptions,
  ListenerCloseOptions,
  ListenerState,
  ListenerStats,
} from './listener-options';
import type { RelayToken } from './token-provider';
import { MAX_TIMER_DELAY_MS, renewDelayMs } from './token-renewal';

export type {
  AcceptHandler,
  HybridConnectionListenerEvents,
  HybridConnectionListenerOptions,
  ListenerCloseOptions,
  ListenerState,
  ListenerStats,
  ReconnectInfo,
} from './listener-options';

/**
 * A Hybrid Connections listener: holds the control channel, accepts or rejects senders, renews its token,
 * pings, and reconnects forever with capped, jittered backoff until close().
 */
export class HybridConnectionListener extends EventEmitter<HybridConnectionListenerEvents> {
  /** The `sb-hc-id` of the control channel. */
  readonly id: string;
  private readonly resource: string;
  private readonly log: RelayLogger;
  private readonly backoff: Backoff;
  private readonly settings: Required<
    Pick<
      HybridConnectionListenerOptions,
      | 'pingIntervalMs'
      | 'pongTimeoutMs'
      | 'renewBeforeExpiryMs'
      | 'renewAtLifetimeRatio'
      | 'handshakeTimeoutMs'
      | 'acceptTimeoutMs'
      | 'healthyAfterMs'
    >
  >;
  private current: ListenerState = 'idle';
  private readonly counters = {
    connectAttempts: 0,
    reconnects: 0,
    accepted: 0,
    rejected: 0,
    acceptFailures: 0,
    tokenRenewals: 0,
    pingTimeouts: 0,
  };
  private control: WebSocket | undefined;
  private controlToken: RelayToken | undefined;
  /** Expiry of the token we last warned about having no successor (one warning per token). */
  private staleTokenWarnedAtExpiryMs: number | undefined;
  private onlineSinceMs = 0;
  /** Set when we kill the channel ourselves, so 'offline' reports why instead of a bare 1006. */
  private closeCause: RelayError | undefined;
  /** renewToken() was called while a handshake was in flight with a possibly stale token. */
  private tokenChanged = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private keepAlive: KeepAlive | undefined;
  private connectAbort: AbortController | undefined;
  private readonly acceptAborts = new Set<AbortController>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly connections = new Set<WebSocket>();

  constructor(
    readonly endpoint: HybridConnectionEndpoint,
    private readonly options: HybridConnectionListenerOptions = {},
  ) {
    super();
    this.id = options.id ?? randomUUID();
    this.resource = endpointResource(endpoint);
    this.log = withLogFields(options.logger ?? silentLogger, { listenerId: this.id, path: endpoint.path });
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF_POLICY, options.random);
    const pingIntervalMs = options.pingIntervalMs ?? 30_000;
    this.settings = {
      pingIntervalMs,
      pongTimeoutMs: options.pongTimeoutMs ?? pingIntervalMs,
      renewBeforeExpiryMs: options.renewBeforeExpiryMs ?? 5 * 60_000,
      renewAtLifetimeRatio: options.renewAtLifetimeRatio ?? 0.8,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
      acceptTimeoutMs: options.acceptTimeoutMs ?? 30_000,
      healthyAfterMs: options.healthyAfterMs ?? 60_000,
    };
  }

  /** Current state. */
  get state(): ListenerState {
    return this.current;
  }

  /** A snapshot of the counters. */
  get stats(): ListenerStats {
    return { ...this.counters };
  }

  /** Expiry (epoch ms) of the token the online control channel runs on; undefined while not online. */
  get tokenExpiresAtMs(): number | undefined {
    return this.current === 'online' ? this.controlToken?.expiresAtMs : undefined;
  }

  /** Accepted connections still open (when tracked: they are dropped from the count as they close). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening (idempotent); progress is reported through events. */
  start(): this {
    if (this.current === 'idle') this.track(this.connect());
    return this;
  }

  /**
   * Hands the token provider's current token to the service now, without reconnecting (call it after the
   * provider's token changed). While waiting to reconnect, reconnects at once instead.
   */
  async renewToken(): Promise<void> {
    if (this.current === 'online') return this.renew(true);
    if (this.current === 'reconnecting') {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.track(this.connect());
    } else if (this.current === 'connecting') {
      this.tokenChanged = true;
    }
  }

  /**
   * Ends the wait before a scheduled reconnect and connects now (no effect in any other state). For an owner that
   * has just seen the relay reachable again (a sibling channel came online): the backoff schedule keeps its place,
   * so a channel that fails again still waits longer next time.
   */
  reconnectNow(): void {
    if (this.current !== 'reconnecting' || this.reconnectTimer === undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.log.info({ attempt: this.backoff.attempt }, 'reconnecting now: the relay is reachable again');
    this.track(this.connect());
  }

  /** Stops everything: no timer, handshake or socket of this listener survives the returned promise. */
  async close(options: ListenerCloseOptions = {}): Promise<void> {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.clearChannelTimers();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.connectAbort?.abort();
    for (const abort of this.acceptAborts) abort.abort();
    const closing: Promise<void>[] = [];
    const control = this.control;
    this.control = undefined;
    if (control) closing.push(closeSocket(control, 1000, 'listener closing'));
    if ((options.connections ?? 'close') === 'close') {
      for (const ws of this.connections) closing.push(closeSocket(ws, 1001, 'listener closing'));
    }
    this.connections.clear();
    await Promise.allSettled([...closing, ...this.inflight]);
    this.log.info({ stats: this.stats }, 'listener closed');
    this.emit('close');
  }

  private isClosed(): boolean {
    return this.current === 'closed';
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.isClosed()) return;
    this.current = 'connecting';
    this.tokenChanged = false;
    this.counters.connectAttempts += 1;
    const abort = new AbortController();
    this.connectAbort = abort;
    let token: RelayToken;
    let ws: WebSocket;
    try {
      token = await this.endpoint.tokenProvider.getToken(this.resource);
      if (abort.signal.aborted) return;
      ws = await openRelaySocket({
        action: 'listen',
        url: listenUrl(this.endpoint, this.id),
        headers: { [AUTHORIZATION_HEADER]: token.token },
        tls: this.endpoint.tls,
        timeoutMs: this.settings.handshakeTimeoutMs,
        signal: abort.signal,
      });
    } catch (err) {
      if (this.isClosed()) return;
      const error = toRelayError(err);
      this.log.warn(
        { code: error.code, status: error.status, err: error.message },
        'control channel handshake failed',
      );
      this.emitError(error);
      this.scheduleReconnect(error, this.tokenChanged);
      return;
    } finally {
      if (this.connectAbort === abort) this.connectAbort = undefined;
    }
    if (this.isClosed()) {
      ws.terminate();
      return;
    }
    this.attachControl(ws, token);
  }

  private attachControl(ws: WebSocket, token: RelayToken): void {
    this.control = ws;
    this.controlToken = token;
    this.onlineSinceMs = Date.now();
    this.closeCause = undefined;
    ws.on('message', (data, isBinary) => this.onControlMessage(data, isBinary));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'control channel socket error'));
    ws.once('close', (code, reason) => this.onControlClose(ws, code, reason.toString()));
    this.current = 'online';
    this.keepAlive = new KeepAlive(ws, this.settings.pingIntervalMs, this.settings.pongTimeoutMs, () => {
      this.counters.pingTimeouts += 1;
      this.closeCause = new RelayError(
        'RELAY_TIMEOUT',
        `control channel missed a pong for ${this.settings.pongTimeoutMs} ms`,
        true,
      );
      ws.terminate();
    }).start();
    this.scheduleRenew(token);
    this.log.info({ expiresAtMs: token.expiresAtMs }, 'listener online');
    this.emit('online');
    if (this.tokenChanged) this.track(this.renew(true));
  }

  private onControlClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.control) return;
    this.control = undefined;
    this.clearChannelTimers();
    if (this.isClosed()) return;
    const error = this.closeCause ?? errorForControlClose(code, reason);
    this.closeCause = undefined;
    const onlineForMs = Date.now() - this.onlineSinceMs;
    // Only a channel that stayed up a while proves the path healthy; one dropped right after the
    // handshake (bad renewal, expired token) must keep backing off, or it would spin.
    if (onlineForMs >= this.settings.healthyAfterMs) this.backoff.reset();
    this.log.warn({ code: error.code, closeCode: code, onlineForMs, err: error.message }, 'listener offline');
    // Not 'online' any more while 'offline' listeners run (they count online channels); the reconnect follows.
    this.current = 'reconnecting';
    this.emit('offline', error);
    this.scheduleReconnect(error, false);
  }

  private scheduleReconnect(error: RelayError, immediately: boolean): void {
    if (this.isClosed()) return;
    const delayMs = immediately ? 0 : this.backoff.next();
    const attempt = Math.max(1, this.backoff.attempt);
    this.counters.reconnects += 1;
    this.current = 'reconnecting';
    this.log.info({ attempt, delayMs, code: error.code }, 'listener reconnecting');
    this.emit('reconnecting', { attempt, delayMs, error });
    this.reconnectTimer = setTimeout(() => this.track(this.connect()), delayMs);
  }

  private scheduleRenew(token: RelayToken): void {
    clearTimeout(this.renewTimer);
    const lifetimeMs = token.expiresAtMs - Date.now();
    const delayMs = renewDelayMs(
      lifetimeMs,
      this.settings.renewBeforeExpiryMs,
      this.settings.renewAtLifetimeRatio,
    );
    this.renewTimer = setTimeout(() => this.track(this.renew(false)), delayMs);
  }

  /** Sends renewToken on the current channel; `force` sends even when the provider returns the same token. */
  private async renew(force: boolean): Promise<void> {
    const ws = this.control;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    let token: RelayToken;
    try {
      token = await this.endpoint.tokenProvider.getToken(this.resource);
    } catch (err) {
      const error = toRelayError(err);
      this.log.warn({ code: error.code, err: error.message }, 'token renewal failed');
      this.emit('tokenRenewalFailed', error);
      this.emitError(error);
      if (ws === this.control && !this.isClosed()) this.retryRenewSoon();
      return;
    }
    if (ws !== this.control || ws.readyState !== WebSocket.OPEN) return;
    if (!force && token.token === this.controlToken?.token) {
      // Warn once per token, not on every retry.
      if (this.staleTokenWarnedAtExpiryMs !== token.expiresAtMs)
        this.log.warn(
          { expiresAtMs: token.expiresAtMs },
          'token provider has no newer token yet; asking again before this one expires',
        );
      this.staleTokenWarnedAtExpiryMs = token.expiresAtMs;
      // A cached token (Entra ID) may be replaced later; without a retry the channel would drop at expiry.
      this.retryRenewSoon();
      return;
    }
    ws.send(JSON.stringify({ renewToken: { token: token.token } }), (err) => {
      if (err) this.log.debug({ err: err.message }, 'renewToken send failed');
    });
    this.controlToken = token;
    this.counters.tokenRenewals += 1;
    this.log.info({ expiresAtMs: token.expiresAtMs }, 'token renewed');
    this.emit('tokenRenewed', { expiresAtMs: token.expiresAtMs });
    this.scheduleRenew(token);
  }

  // Try again before the old token runs out; if it does, the service closes with 1008 and we reconnect.
  private retryRenewSoon(): void {
    const leftMs = (this.controlToken?.expiresAtMs ?? 0) - Date.now();
    this.renewTimer = setTimeout(
      () => this.track(this.renew(false)),
      Math.min(MAX_TIMER_DELAY_MS, Math.max(1_000, Math.min(30_000, leftMs / 2))),
    );
  }

  private onControlMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.log.warn({}, 'ignoring binary frame on the control channel');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      this.emitError(new RelayError('RELAY_PROTOCOL', 'control message is not JSON', false));
      return;
    }
    const request = parseAcceptMessage(message);
    if (request) {
      this.track(this.handleAccept(request, Date.now()));
      return;
    }
    const kind =
      typeof message === 'object' && message !== null ? Object.keys(message).join(',') : typeof message;
    // HTTP 'request' gestures only arrive when HTTP is enabled on the hybrid connection; we never enable it.
    this.log.warn({ kind }, 'ignoring unsupported control message');
  }

  private async handleAccept(request: AcceptRequest, receivedAtMs: number): Promise<void> {
    const abort = new AbortController();
    this.acceptAborts.add(abort);
    const log = withLogFields(this.log, { connectionId: request.id });
    try {
      // close() must not wait on a handler that never answers.
      const decision = await untilAborted(this.decide(request), abort.signal);
      if (abort.signal.aborted) return;
      const remainingMs = this.settings.acceptTimeoutMs - (Date.now() - receivedAtMs);
      if (remainingMs <= 0)
        throw new RelayError('RELAY_TIMEOUT', 'the accept handler outlasted the accept window', false);
      const rendezvous = { tls: this.endpoint.tls, timeoutMs: remainingMs, signal: abort.signal };
      if (decision.accept) {
        const ws = await openRendezvous(request, rendezvous);
        if (this.isClosed()) {
          ws.terminate();
          return;
        }
        this.adopt(ws, log);
        this.counters.accepted += 1;
        log.debug({}, 'connection accepted');
        this.emit('connection', ws, request);
      } else {
        await rejectRendezvous(request, decision, rendezvous);
        this.counters.rejected += 1;
        log.info({ statusCode: decision.statusCode }, 'connection rejected');
        this.emit('rejected', request, decision);
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      const error = toRelayError(err);
      this.counters.acceptFailures += 1;
      log.warn({ code: error.code, status: error.status, err: error.message }, 'accept failed');
      this.emitError(error);
    } finally {
      this.acceptAborts.delete(abort);
    }
  }

  private async decide(request: AcceptRequest): Promise<AcceptDecision> {
    const handler = this.options.acceptHandler;
    if (!handler) return ACCEPT;
    try {
      return await handler(request);
    } catch (err) {
      this.log.error(
        { connectionId: request.id, err: String(err) },
        'accept handler threw; rejecting with 500',
      );
      this.emitError(
        new RelayError('RELAY_REJECTED', 'accept handler threw; connection rejected with 500', false, 500, {
          cause: err,
        }),
      );
      return rejectWith(500, 'Internal Server Error');
    }
  }

  private adopt(ws: WebSocket, log: RelayLogger): void {
    this.connections.add(ws);
    // ws always follows 'error' with 'close'; owners watch 'close', and an unheard 'error' must not crash us.
    ws.on('error', (err) => log.debug({ err: err.message }, 'connection socket error'));
    ws.once('close', () => this.connections.delete(ws));
  }

  private clearChannelTimers(): void {
    this.keepAlive?.stop();
    this.keepAlive = undefined;
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
  }

  private emitError(error: RelayError): void {
    // EventEmitter throws an unheard 'error'; these errors do not stop the listener, so they must not crash it.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private track(work: Promise<void>): void {
    const settled = work.then(
      () => undefined,
      (err: unknown) => this.log.error({ err: String(err) }, 'unexpected listener failure'),
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new RelayError('RELAY_ABORTED', 'listener closing', false));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
