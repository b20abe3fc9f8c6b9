import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCorruptingProxy } from './corrupt-proxy';
import type { BenchOptions } from './options';
import type { BenchRelay } from './relay';
import type { BenchTarget } from './target/server';
import { BulkAccumulator, runBulk, type BulkResult } from './workloads/bulk';
import { runIdle, type IdleResult } from './workloads/idle';
import { LatencyRecorder, type LatencyResult } from './workloads/latency';
import type { PayloadSource } from './workloads/payload';
import type { RunningVariant, VariantContext, VariantDefinition } from './variants/types';

/** Memory of one variant process over the whole run, in MiB. */
export interface ProcessFigures {
  readonly rssAtStartMiB: number;
  /** VmHWM when the variant stopped: the peak over every workload, bulk included. */
  readonly peakRssMiB: number;
}

/** Every figure of one variant. */
export interface VariantReport {
  readonly status: 'ok' | 'failed';
  readonly description: string;
  /** Why it failed, one line per failure (workload failures included). */
  readonly errors: readonly string[];
  /** Listener control channels it held on the relay. */
  readonly listeners: number;
  readonly throughput?: { readonly singleStream: BulkResult; readonly parallel: BulkResult };
  readonly latency?: LatencyResult;
  readonly idle?: IdleResult;
  readonly processes: Readonly<Record<string, ProcessFigures>>;
}

const MiB = 1024 * 1024;
const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * One variant through a bench run: started once, measured by workload (the caller interleaves variants where
 * that removes drift), stopped, reported. A failing workload is recorded and the others still run.
 */
export class VariantSession {
  readonly errors: string[] = [];
  private idle: IdleResult | undefined;
  private latency: LatencyRecorder | undefined;
  private readonly bulk: Record<'singleStream' | 'parallel', BulkAccumulator>;
  private readonly processFigures: Record<string, ProcessFigures> = {};
  private readonly startRss = new Map<string, number>();
  private stopped = false;

  private constructor(
    readonly definition: VariantDefinition,
    private readonly running: RunningVariant | undefined,
    private readonly relay: BenchRelay | undefined,
  ) {
    for (const proc of running?.processes ?? []) this.startRss.set(proc.role, proc.rss()?.rssBytes ?? 0);
    if (running) this.latency = new LatencyRecorder(running.entryPort);
    this.bulk = { singleStream: new BulkAccumulator(), parallel: new BulkAccumulator() };
  }

  /** Starts the variant; a start failure gives a session that only reports it. */
  static async start(
    definition: VariantDefinition,
    context: Omit<VariantContext, 'workDir'> & { readonly runDir: string },
  ): Promise<VariantSession> {
    const workDir = join(context.runDir, definition.name);
    await mkdir(workDir, { recursive: true });
    try {
      const running = await definition.start({ ...context, workDir });
      return new VariantSession(definition, running, context.relay);
    } catch (err) {
      context.log(`${definition.name}: failed to start: ${(err as Error).message}`);
      const session = new VariantSession(definition, undefined, context.relay);
      session.errors.push(`start: ${(err as Error).message}`);
      return session;
    }
  }

  get name(): VariantDefinition['name'] {
    return this.definition.name;
  }

  /** Relay connections the running variant holds with no client on them (its gateway's warm pool). */
  get idleRelayConnections(): number {
    return this.usable ? (this.running!.idleRelayConnections ?? 0) : 0;
  }

  /** True when the variant runs and can be measured. */
  get usable(): boolean {
    return this.running !== undefined && !this.stopped;
  }

  /** Idle connections: run first, while the processes are fresh, so their VmHWM is the idle peak. */
  async measureIdle(options: BenchOptions, target: BenchTarget): Promise<void> {
    if (!this.running || options.idle <= 0 || this.running.processes.length === 0) return;
    this.idle = await this.guard('idle', () =>
      runIdle(this.running!.entryPort, {
        count: options.idle,
        holdMs: options.idleHoldMs,
        target,
        processes: this.running!.processes,
        ...(this.relay && { relay: this.relay }),
      }),
    );
    if (this.idle && this.idle.status !== 'ok')
      this.errors.push(
        `idle: ${this.idle.errors} errors, ${this.idle.verifiedAfterHold}/${this.idle.connections} verified`,
      );
  }

  /** Adds `count` sequential connections to the latency sample (`counted: false` for warm-up). */
  async measureLatency(count: number, counted = true): Promise<void> {
    if (!this.running || !this.latency) return;
    await this.guard('latency', () => this.latency!.run(count, counted));
  }

  /**
   * One round of bulk upload: `bytes` over `streams` connections (1 = the single-stream figure), through a
   * corrupting proxy when asked to (test aid). Rounds add up to the variant's figure.
   */
  async measureBulkRound(
    options: BenchOptions,
    payload: PayloadSource,
    kind: 'singleStream' | 'parallel',
    bytes: number,
  ): Promise<void> {
    if (!this.running) return;
    const running = this.running;
    const streams = kind === 'singleStream' ? 1 : options.streams;
    const proxy =
      options.corruptVariant === this.name ? await startCorruptingProxy(running.entryPort) : undefined;
    // The relay's CPU is part of the picture: it decrypts, re-frames and encrypts every byte.
    const measured = [...running.processes, ...(this.relay ? [this.relay.process] : [])];
    try {
      const round = await this.guard('bulk', () =>
        runBulk(proxy?.port ?? running.entryPort, payload, {
          streams,
          totalBytes: bytes,
          processes: measured,
        }),
      );
      if (round) this.bulk[kind].add(round);
    } finally {
      await proxy?.close();
    }
  }

  /** Reads the processes' peak memory and stops them. */
  async stop(): Promise<void> {
    if (!this.running || this.stopped) return;
    this.stopped = true;
    for (const proc of this.running.processes) {
      this.processFigures[proc.role] = {
        rssAtStartMiB: round1((this.startRss.get(proc.role) ?? 0) / MiB),
        peakRssMiB: round1((proc.rss()?.peakRssBytes ?? 0) / MiB),
      };
      if (!proc.running) this.errors.push(`${proc.role} process exited during the run`);
    }
    await this.running.stop();
  }

  /** The variant's figures. */
  report(): VariantReport {
    const latency = this.latency?.result();
    const errors = [...this.errors];
    if (latency && latency.status !== 'ok') errors.push(`latency: ${latency.errors} connection errors`);
    const singleStream = this.bulk.singleStream.result();
    const parallel = this.bulk.parallel.result();
    const throughput = singleStream && parallel ? { singleStream, parallel } : undefined;
    for (const [name, result] of Object.entries({ singleStream, parallel }))
      if (result && result.status !== 'ok') errors.push(`bulk ${name}: ${result.errors[0] ?? 'failed'}`);
    return {
      status: errors.length === 0 ? 'ok' : 'failed',
      description: this.definition.description,
      errors,
      listeners: this.running?.listeners ?? 0,
      ...(throughput && { throughput }),
      ...(latency && latency.connections > 0 && { latency }),
      ...(this.idle && { idle: this.idle }),
      processes: this.processFigures,
    };
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (err) {
      this.errors.push(`${what}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
