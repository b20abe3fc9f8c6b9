import { EventEmitter } from 'node:events';
import type { ConfigProblem } from '../../common/src/config/schema-validator';
import type { RelayTlsOptions } from '../../common/src/hc/endpoint';
import type { Logger } from '../../common/src/log';
import {
  diffForwarderConfig,
  EMPTY_FORWARDER_CONFIG,
  isEmptyDiff,
  type ForwarderConfigDiff,
} from './config/diff';
import { normalizeForwarderConfig } from './config/normalize';
import type { ForwarderConfig, ForwarderLogLevel } from './config/types';
import {
  HybridConnectionRuntime,
  type ListenerStateEvent,
  type ListenerTuning,
  type RuntimeEventSink,
} from './runtime/hybrid-connection-runtime';
import type { ForwarderState, HybridConnectionState } from './runtime/stats';
import type { TunnelClosedEvent, TunnelOpenedEvent, TunnelRefusedEvent } from './runtime/tunnel-events';

/**
 * Keep-alive of every control channel: a relay that stops answering (black-holed: TCP up, nothing comes back)
 * is noticed within 15 s (ping every 10 s, pong within 5 s) instead of the library's 30 s + 30 s, so the
 * forwarder reports `listeners_offline` and reconnects in seconds. A ping is a few bytes per channel.
 */
export const FORWARDER_KEEPALIVE = { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 } as const;

/** Options for Forwarder. */
export interface ForwarderOptions {
  readonly log: Logger;
  /** Extra CA for the relay's TLS (the sandbox); production uses the system trust store. */
  readonly tls?: RelayTlsOptions;
  /** Listener tuning (ping interval, backoff) passed to every control channel. */
  readonly listener?: ListenerTuning;
  /** Lifetime of tokens minted from a SAS key. */
  readonly tokenLifetimeMs?: number;
  /** How long a sender may take to send its preamble. */
  readonly preambleTimeoutMs?: number;
  /** The same for a connection a gateway opened ahead of a client (`x-hrf-warm`); default 120 s. */
  readonly warmPreambleTimeoutMs?: number;
  /** Streams served at once on one multiplexed relay connection (default 1,024); 0 refuses multiplexing. */
  readonly muxMaxStreams?: number;
  /** Clock for the token expiry check. */
  readonly nowMs?: () => number;
}

/** Outcome of applying a configuration document. */
export type ApplyResult =
  | { readonly ok: true; readonly config: ForwarderConfig; readonly diff: ForwarderConfigDiff }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** A summary of an applied change (names only, no secrets). */
export interface ConfigAppliedEvent {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

/** Events of Forwarder. */
export interface ForwarderEvents {
  configApplied: [event: ConfigAppliedEvent, diff: ForwarderConfigDiff];
  configRejected: [problems: readonly ConfigProblem[]];
  /** The configuration asked for another log level. */
  logLevel: [level: ForwarderLogLevel | undefined];
  listenerState: [event: ListenerStateEvent];
  tunnelOpened: [event: TunnelOpenedEvent];
  tunnelClosed: [event: TunnelClosedEvent];
  tunnelRefused: [event: TunnelRefusedEvent];
}

/**
 * The relay-forwarder: applies configuration documents (from a file or a module twin) by changing only what
 * differs, runs one HybridConnectionRuntime per configured hybrid connection, and exposes state and events
 * for reporting. An invalid document is refused with every problem and the running configuration stays.
 */
export class Forwarder extends EventEmitter<ForwarderEvents> {
  private running: ForwarderConfig = EMPTY_FORWARDER_CONFIG;
  private appliedAtMs: number | undefined;
  private readonly runtimes = new Map<string, HybridConnectionRuntime>();
  /** Runtimes of removed hybrid connections, until their tunnels have drained. */
  private readonly retiring = new Set<HybridConnectionRuntime>();
  private readonly retirements = new Set<Promise<void>>();
  private stopped = false;
  private stopping: HybridConnectionRuntime[] = [];
  private stopDone: Promise<void> | undefined;
  /** The level the process started with; a configuration without logLevel returns to it. */
  private readonly defaultLogLevel: string;
  private readonly sink: RuntimeEventSink;

  constructor(private readonly options: ForwarderOptions) {
    super();
    this.defaultLogLevel = options.log.level;
    this.sink = {
      opened: (event) => this.emit('tunnelOpened', event),
      closed: (event) => this.emit('tunnelClosed', event),
      refused: (event) => this.emit('tunnelRefused', event),
      listenerState: (event) => this.emit('listenerState', event),
    };
  }

  /** The configuration in force (undefined before the first valid document). */
  get config(): ForwarderConfig | undefined {
    return this.appliedAtMs === undefined ? undefined : this.running;
  }

  /** The runtime of one hybrid connection (diagnostics and tests). */
  runtime(name: string): HybridConnectionRuntime | undefined {
    return this.runtimes.get(name);
  }

  /** Validates a document and applies it; on problems the running configuration is left as it is. */
  applyDocument(document: unknown): ApplyResult {
    const result = normalizeForwarderConfig(document, { nowMs: (this.options.nowMs ?? Date.now)() });
    if (!result.ok) {
      this.refuseDocument(result.problems);
      return result;
    }
    return { ok: true, config: result.value, diff: this.applyConfig(result.value) };
  }

  /**
   * Records a document that could not be used (invalid, or a file that does not parse): logged and emitted as
   * 'configRejected' (counted in `relay.config.versions{outcome=refused}`). Nothing else changes.
   */
  refuseDocument(problems: readonly ConfigProblem[]): void {
    const keeping = this.appliedAtMs === undefined ? '' : '; keeping the running one';
    this.options.log.error({ problems }, `configuration refused${keeping}`);
    this.emit('configRejected', problems);
  }

  /** Applies a validated configuration, touching only what differs from the running one. */
  applyConfig(config: ForwarderConfig): ForwarderConfigDiff {
    if (this.stopped) throw new Error('forwarder stopped');
    const diff = diffForwarderConfig(this.running, config);
    const first = this.appliedAtMs === undefined;
    this.running = config;
    this.appliedAtMs = Date.now();
    if (diff.logLevelChanged || first) this.setLogLevel(config.logLevel);
    for (const hc of diff.removed) this.retire(hc.name, config.drainTimeoutMs);
    for (const change of diff.changed) this.runtimes.get(change.name)!.apply(change, config.drainTimeoutMs);
    for (const hc of diff.added) {
      const runtime = new HybridConnectionRuntime(hc, {
        log: this.options.log,
        events: this.sink,
        ...(this.options.tls && { tls: this.options.tls }),
        listener: { ...FORWARDER_KEEPALIVE, ...this.options.listener },
        ...(this.options.tokenLifetimeMs !== undefined && { tokenLifetimeMs: this.options.tokenLifetimeMs }),
        ...(this.options.preambleTimeoutMs !== undefined && {
          preambleTimeoutMs: this.options.preambleTimeoutMs,
        }),
        ...(this.options.warmPreambleTimeoutMs !== undefined && {
          warmPreambleTimeoutMs: this.options.warmPreambleTimeoutMs,
        }),
        ...(this.options.muxMaxStreams !== undefined && { muxMaxStreams: this.options.muxMaxStreams }),
      });
      this.runtimes.set(hc.name, runtime);
      runtime.start();
    }
    const summary: ConfigAppliedEvent = {
      added: diff.added.map((hc) => hc.name),
      removed: diff.removed.map((hc) => hc.name),
      changed: diff.changed.map((c) => c.name),
      unchanged: diff.unchanged,
    };
    if (!isEmptyDiff(diff) || first) this.options.log.info(summary, 'configuration applied');
    this.emit('configApplied', summary, diff);
    return diff;
  }

  /** A snapshot of every hybrid connection's listeners and services. */
  state(): ForwarderState {
    const hybridConnections: Record<string, HybridConnectionState> = {};
    for (const [name, runtime] of this.runtimes) hybridConnections[name] = runtime.state();
    let draining = 0;
    for (const runtime of this.retiring) draining += runtime.activeTunnels;
    return {
      ...(this.appliedAtMs !== undefined && { configAppliedAtMs: this.appliedAtMs }),
      hybridConnections,
      drainingTunnels: draining,
    };
  }

  /**
   * Stops accepting everywhere and lets live tunnels finish for up to the configured drain time (or
   * `drainTimeoutMs`), then aborts the rest. Resolves when every socket and timer is released. Calling it
   * again with a shorter drain time (a second Ctrl-C) brings the deadline forward.
   */
  stop(drainTimeoutMs: number = this.running.drainTimeoutMs): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stopping = [...this.runtimes.values(), ...this.retiring];
      this.runtimes.clear();
    }
    const closing = this.stopping.map((runtime) => runtime.close(drainTimeoutMs));
    this.stopDone ??= Promise.all([...closing, ...this.retirements]).then(() =>
      this.options.log.info({}, 'forwarder stopped'),
    );
    return this.stopDone;
  }

  // pino children copy their level when created: set it on every runtime's logger, not just the root.
  private setLogLevel(level: ForwarderLogLevel | undefined): void {
    const effective = level ?? this.defaultLogLevel;
    this.options.log.level = effective;
    for (const runtime of [...this.runtimes.values(), ...this.retiring]) runtime.setLogLevel(effective);
    this.emit('logLevel', level);
  }

  private retire(name: string, drainTimeoutMs: number): void {
    const runtime = this.runtimes.get(name)!;
    this.runtimes.delete(name);
    this.retiring.add(runtime);
    this.options.log.info(
      { hybridConnection: name, tunnels: runtime.activeTunnels },
      'hybrid connection removed',
    );
    const done = runtime.close(drainTimeoutMs).finally(() => {
      this.retiring.delete(runtime);
      this.retirements.delete(done);
    });
    this.retirements.add(done);
  }
}
