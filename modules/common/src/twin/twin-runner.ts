import { EventEmitter } from 'node:events';
import type { ConfigProblem } from '../config/schema-validator';
import type { Logger } from '../log';
import { ConfigStatusTracker, reportConfigStatus, type ConfigStatus } from './config-status';
import type { DesiredCause, DesiredDocument } from './desired-tracker';
import { describeSdkError } from './errors';
import { jsonEqual, type JsonObject } from './json';
import { methodOk, registerMethods, type MethodHandler } from './methods';
import type { ModuleIdentity } from './module-client';
import { ModuleConnection, type ModuleConnectionOptions } from './module-connection';
import type { ModuleInfo } from './module-info';
import { ReportedWriter } from './reported-writer';
import { fitReport, type ReportDetail } from './scrub';
import { StatsSender } from './stats-sender';
import { TwinSource } from './twin-source';

/** Outcome of applying one desired document. */
export type ApplyOutcome =
  { readonly ok: true } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** What a module provides to be driven by its twin; everything else (IoT Hub, reporting, methods) is the runner's. */
export interface TwinModule {
  /** Validates and applies a complete desired document (system keys removed); on refusal the last good one keeps running. */
  applyDesired(document: JsonObject): Promise<ApplyOutcome>;
  /** The module's own part of the reported properties (routes, hybrid connections) at a detail level. */
  report(detail: ReportDetail): JsonObject;
  /** One stats entry per route or service, with its identifiers. */
  stats(): readonly JsonObject[];
  /** Module-specific direct methods (`drain`, `resume`); `getStatus` is provided by the runner. */
  readonly methods: Readonly<Record<string, MethodHandler>>;
  /** Calls `listener` when something reported changed (a status, not a counter); returns the unsubscribe. */
  onStateChange(listener: () => void): () => void;
}

/** Options for TwinRunner. */
export interface TwinRunnerOptions {
  readonly module: TwinModule;
  readonly info: ModuleInfo;
  readonly identity?: ModuleIdentity;
  /** Location identifier put on stats messages when the module has one (a forwarder's site). */
  readonly location?: string;
  readonly logger: Logger;
  readonly connection?: Omit<ModuleConnectionOptions, 'logger'>;
  readonly reported?: {
    readonly debounceMs?: number;
    readonly refreshIntervalMs?: number;
    /** Reported properties are capped at 32 KB by IoT Hub; default 28 KiB. */
    readonly maxBytes?: number;
  };
  readonly stats?: { readonly intervalMs?: number; readonly outputName?: string };
}

/** An applied desired version. */
export interface AppliedEvent {
  readonly version: number;
  readonly cause: DesiredCause;
  /** From the document's arrival to the end of its apply. */
  readonly durationMs: number;
}

/** Events of TwinRunner. */
export interface TwinRunnerEvents {
  applied: [event: AppliedEvent];
  refused: [event: { readonly version: number; readonly problems: readonly ConfigProblem[] }];
}

/** Method responses are capped at 128 KB by IoT Hub. */
const MAX_METHOD_RESPONSE_BYTES = 120 * 1024;

/**
 * Drives a module from its module twin: every desired version is applied in arrival order (when several are
 * waiting, only the newest is applied: each is a complete document), outcomes and module state go to reported
 * properties as coalesced patches, `getStatus` plus the module's methods are served, and a stats message is sent
 * periodically. Losing IoT Hub never touches the module: it keeps running its last configuration.
 */
export class TwinRunner extends EventEmitter<TwinRunnerEvents> {
  readonly connection: ModuleConnection;
  readonly source: TwinSource;
  readonly writer: ReportedWriter;
  readonly statsSender: StatsSender;
  private readonly config = new ConfigStatusTracker();
  private pending: { desired: DesiredDocument; arrivedAtMs: number } | undefined;
  private applying = false;
  private lastSeen: { version: number; document: JsonObject } | undefined;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(private readonly options: TwinRunnerOptions) {
    super();
    const { logger, module } = options;
    this.connection = new ModuleConnection({ ...options.connection, logger });
    this.source = new TwinSource(this.connection, logger);
    this.writer = new ReportedWriter({
      snapshot: () => this.reported(),
      send: (patch) => this.source.updateReported(patch),
      logger,
      ...options.reported,
    });
    this.statsSender = new StatsSender({
      connection: this.connection,
      collect: () => ({ header: this.statsHeader(), entries: module.stats() }),
      logger,
      ...options.stats,
    });
    this.source.on('desired', (desired) => this.offer(desired));
    this.source.on('reported', (reported) => this.writer.resync(reported));
    this.connection.on('session', () => this.writer.request());
    this.unsubscribe = module.onStateChange(() => this.writer.request());
    registerMethods(this.connection, { getStatus: () => methodOk(this.status()), ...module.methods }, logger);
  }

  /** Connects to IoT Hub (through edgeHub under IoT Edge) and keeps reconnecting until stopped. */
  start(): void {
    this.connection.start();
  }

  /** The configuration status: waiting, applied (which `$version`) or refused (why). */
  get configStatus(): ConfigStatus {
    return this.config.current;
  }

  /** The reported properties as they should be now (scrubbed, fitted to the twin size limit). */
  reported(): JsonObject {
    return fitReport((detail) => this.build(detail), this.options.reported?.maxBytes ?? 28 * 1024);
  }

  /** The live picture `getStatus` answers: the reported view at full detail, plus connection and reporting counters. */
  status(): JsonObject {
    return fitReport((detail) => {
      const c = this.connection.stats();
      const w = this.writer.stats();
      return {
        ...this.build(detail),
        iotHub: {
          connected: c.connected,
          sessions: c.sessions,
          failedAttempts: c.failedAttempts,
          ...(c.connectedSinceMs !== undefined && { connectedSince: iso(c.connectedSinceMs) }),
          ...(c.lastError && { lastError: { message: c.lastError.message, at: iso(c.lastError.atMs) } }),
        },
        reportedPatches: { sent: w.patches, failed: w.failures },
        statsMessages: { ...this.statsSender.stats() },
      };
    }, MAX_METHOD_RESPONSE_BYTES);
  }

  /** Stops reporting and the IoT Hub connection (the module itself is stopped by its owner). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.writer.stop();
    this.statsSender.stop();
    await this.connection.stop();
  }

  private build(detail: ReportDetail): JsonObject {
    const { info, identity } = this.options;
    return {
      module: {
        name: info.name,
        version: info.version,
        startedAt: iso(info.startedAtMs),
        ...(identity?.deviceId && { deviceId: identity.deviceId }),
        ...(identity?.moduleId && { moduleId: identity.moduleId }),
      },
      config: reportConfigStatus(this.config.current),
      ...this.options.module.report(detail),
    };
  }

  private statsHeader(): JsonObject {
    const { info, identity, location } = this.options;
    const version = this.config.current.appliedVersion;
    return {
      module: info.name,
      moduleVersion: info.version,
      ...(identity?.deviceId && { deviceId: identity.deviceId }),
      ...(identity?.moduleId && { moduleId: identity.moduleId }),
      ...(location && { location }),
      ...(version !== undefined && { configVersion: version }),
      at: new Date().toISOString(),
    };
  }

  private offer(desired: DesiredDocument): void {
    this.config.received(desired.version);
    this.pending = { desired, arrivedAtMs: Date.now() };
    if (!this.applying) void this.applyPending();
  }

  private async applyPending(): Promise<void> {
    this.applying = true;
    while (this.pending && !this.stopped) {
      const { desired, arrivedAtMs } = this.pending;
      this.pending = undefined;
      await this.applyOne(desired, arrivedAtMs);
    }
    this.applying = false;
  }

  private async applyOne(desired: DesiredDocument, arrivedAtMs: number): Promise<void> {
    const { logger, module } = this.options;
    const { version, document, cause } = desired;
    // A re-read after reconnecting usually brings the same document back: nothing to do.
    if (this.lastSeen && this.lastSeen.version === version && jsonEqual(this.lastSeen.document, document))
      return;
    this.lastSeen = { version, document };
    let outcome: ApplyOutcome;
    try {
      outcome = await module.applyDesired(document);
    } catch (err) {
      logger.error({ version, err: describeSdkError(err) }, 'applying the desired configuration failed');
      outcome = {
        ok: false,
        problems: [{ path: '', message: 'the module failed to apply this version; see its log' }],
      };
    }
    const nowMs = Date.now();
    if (outcome.ok) {
      this.config.applied(version, nowMs);
      logger.info({ version, cause, durationMs: nowMs - arrivedAtMs }, 'desired configuration applied');
      this.emit('applied', { version, cause, durationMs: nowMs - arrivedAtMs });
    } else {
      this.config.refused(version, nowMs, outcome.problems);
      logger.warn(
        { version, problems: outcome.problems.length, running: this.config.current.appliedVersion },
        'desired configuration refused; the last good one keeps running',
      );
      this.emit('refused', { version, problems: outcome.problems });
    }
    this.writer.request();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
