import { EventEmitter } from 'node:events';
import type { Logger } from '../../../modules/common/src/log';
import { ControllerError, isControllerError } from '../errors';
import { decideLease, type LeaseReading } from './record';
import type { LeaseStore } from './store';

/** Timing of the lease. */
export interface LeaseTiming {
  /** A lease unchanged this long (by the observer's clock) is abandoned. Default 15 s. */
  readonly durationMs?: number;
  /** How often the leader renews. Default 5 s (three tries before a standby may take over). */
  readonly renewIntervalMs?: number;
  /** How often a standby reads the lease. Default 2 s. */
  readonly retryIntervalMs?: number;
  /**
   * The leader stops writing this long before a standby may take over: room for a write already on the wire and
   * for clock rates that differ a little. Default a fifth of the duration.
   */
  readonly guardMs?: number;
}

/** Options of LeaderLease. */
export interface LeaderLeaseOptions extends LeaseTiming {
  readonly store: LeaseStore;
  /** This replica's name in the lease (host, process, random suffix: unique per process start). */
  readonly holderId: string;
  readonly logger: Logger;
  /** Monotonic clock (ms). Default performance.now. */
  readonly nowMs?: () => number;
  /** Wall clock for the record's informational `renewedAt`. Default Date.now. */
  readonly wallClockMs?: () => number;
}

/** Events of LeaderLease. */
export interface LeaderLeaseEvents {
  /** This replica now holds the lease with this generation. */
  elected: [generation: number];
  /** This replica lost the lease (or let it go); it must not write any more. */
  deposed: [generation: number, reason: string];
}

/**
 * Leader election through one record in IoT Hub, written only with If-Match: the leader renews it every
 * `renewIntervalMs`; a standby reads it every `retryIntervalMs` and takes it (generation + 1) once the record has not
 * changed for `durationMs` by its own clock. The leader counts itself leader only until `durationMs - guardMs`
 * after the start of its last successful renewal — before any standby can have seen that renewal and waited out
 * the duration — and says `deposed` then, or as soon as a read shows another holder.
 */
export class LeaderLease extends EventEmitter<LeaderLeaseEvents> {
  private readonly durationMs: number;
  private readonly renewIntervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly guardMs: number;
  private readonly now: () => number;
  private reading: LeaseReading | undefined;
  private firstSeenMs = 0;
  private generationHeld: number | undefined;
  private validUntilMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private started = false;
  private standingBy: number | undefined;

  constructor(private readonly options: LeaderLeaseOptions) {
    super();
    this.durationMs = options.durationMs ?? 15_000;
    this.renewIntervalMs = options.renewIntervalMs ?? 5_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 2_000;
    this.guardMs = options.guardMs ?? Math.round(this.durationMs / 5);
    this.now = options.nowMs ?? (() => performance.now());
    const problems: string[] = [];
    if (!(this.durationMs >= 1000)) problems.push('lease duration must be at least 1s');
    if (!(this.guardMs > 0 && this.guardMs < this.durationMs / 2))
      problems.push('lease guard must be above 0 and below half the duration');
    if (!(this.renewIntervalMs > 0 && this.renewIntervalMs <= (this.durationMs - this.guardMs) / 2))
      problems.push('lease renew interval must leave two renewals within the duration less the guard');
    if (!(this.retryIntervalMs > 0 && this.retryIntervalMs < this.durationMs))
      problems.push('lease retry interval must be above 0 and below the duration');
    if (problems.length > 0)
      throw new ControllerError('CONTROLLER_BAD_SETTINGS', `invalid lease: ${problems.join('; ')}`, false);
  }

  /** The generation held now, or undefined when this replica is not (or no longer surely) the leader. */
  generation(): number | undefined {
    if (this.generationHeld === undefined || this.now() >= this.validUntilMs) return undefined;
    return this.generationHeld;
  }

  /** Throws CONTROLLER_NOT_LEADER unless this replica holds `generation` now (checked before every write). */
  assertHeld(generation: number): void {
    if (this.generation() !== generation)
      throw new ControllerError(
        'CONTROLLER_NOT_LEADER',
        `lease generation ${generation} is no longer held`,
        false,
      );
  }

  /** A twin showed a newer generation (`reason` says which): step down at once; the next read shows who leads. */
  fenced(reason: string): void {
    if (this.generationHeld === undefined) return;
    this.depose(reason);
  }

  /** Starts taking part: reads the lease at once, then on schedule. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops; a leader releases the lease so a standby takes over at once instead of after the duration. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiryTimer);
    await this.ticking;
    const held = this.generation();
    if (held === undefined || !this.reading) return;
    this.depose('stopping');
    try {
      await this.options.store.write(
        { holder: '', generation: held, durationMs: this.durationMs, renewedAt: this.wallIso() },
        this.reading.etag,
      );
      this.options.logger.info({ generation: held }, 'lease released');
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'lease not released; a standby waits it out');
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.generationHeld !== undefined ? this.renewIntervalMs : this.retryIntervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const log = this.options.logger;
    try {
      const reading = await this.options.store.read();
      this.observe(reading);
      const decision = decideLease({
        reading,
        firstSeenMs: this.firstSeenMs,
        nowMs: this.now(),
        me: this.options.holderId,
        myGeneration: this.generationHeld,
        myDurationMs: this.durationMs,
      });
      if (decision.kind === 'wait') {
        if (this.generationHeld !== undefined) this.depose(`the lease is held by ${decision.holder}`);
        if (this.standingBy !== reading.record.generation) {
          this.standingBy = reading.record.generation;
          log.info(
            { holder: decision.holder, generation: reading.record.generation },
            'lease held by another replica; standing by',
          );
        }
        return;
      }
      const generation = decision.kind === 'renew' ? this.generationHeld! : decision.generation;
      if (decision.kind === 'acquire' && this.generationHeld !== undefined)
        this.depose('the lease changed hands');
      const sentMs = this.now();
      const written = await this.options.store.write(
        {
          holder: this.options.holderId,
          generation,
          durationMs: this.durationMs,
          renewedAt: this.wallIso(),
        },
        reading.etag,
      );
      this.observe(written);
      if (this.stopped) return;
      this.validUntilMs = sentMs + this.durationMs - this.guardMs;
      const isNew = this.generationHeld !== generation;
      this.generationHeld = generation;
      this.watchExpiry();
      if (isNew) {
        log.info(
          { generation, holder: this.options.holderId, durationMs: this.durationMs },
          'lease acquired',
        );
        this.emit('elected', generation);
      }
    } catch (err) {
      // 412: another replica wrote first; the next read shows who. Anything else: try again on schedule; a leader
      // that cannot renew is deposed by its expiry timer before a standby may take over.
      const level = isControllerError(err, 'CONTROLLER_ETAG_MISMATCH') ? 'info' : 'warn';
      log[level]({ err: (err as Error).message }, 'lease not written');
    }
  }

  // Says `deposed` when the validity runs out without a renewal. Timers may fire a little early by the monotonic
  // clock, so an early wake-up waits again instead of giving up.
  private watchExpiry(): void {
    clearTimeout(this.expiryTimer);
    if (this.generationHeld === undefined || this.stopped) return;
    const leftMs = this.validUntilMs - this.now();
    if (leftMs <= 0) {
      this.depose('the lease could not be renewed in time');
      return;
    }
    this.expiryTimer = setTimeout(() => this.watchExpiry(), Math.ceil(leftMs) + 1);
  }

  private observe(reading: LeaseReading): void {
    if (this.reading?.etag !== reading.etag) this.firstSeenMs = this.now();
    this.reading = reading;
  }

  private depose(reason: string): void {
    const generation = this.generationHeld;
    if (generation === undefined) return;
    this.generationHeld = undefined;
    this.validUntilMs = 0;
    clearTimeout(this.expiryTimer);
    this.options.logger.warn({ generation, reason }, 'lease lost');
    this.emit('deposed', generation, reason);
  }

  private wallIso(): string {
    return new Date((this.options.wallClockMs ?? Date.now)()).toISOString();
  }
}
