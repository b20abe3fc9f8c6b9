import { EventEmitter } from 'node:events';
import type { ModuleClient } from 'azure-iot-device';
import { Backoff, sleep as defaultSleep, type BackoffPolicy, type SleepFn } from '../hc/backoff';
import type { Logger } from '../log';
import { describeSdkError, TwinError } from './errors';
import { moduleClientFromEnvironment, NO_RETRY_POLICY, type ModuleClientFactory } from './module-client';

/** Work done on every new IoT Hub session before it counts as established (twin read, method registration). */
export type SessionHook = (client: ModuleClient, signal: AbortSignal) => Promise<void>;

/** Options for ModuleConnection. */
export interface ModuleConnectionOptions {
  readonly logger: Logger;
  /** Makes a fresh client per session; default `ModuleClient.fromEnvironment(Mqtt)`. */
  readonly createClient?: ModuleClientFactory;
  /** Delays between attempts; default 1 s doubling to 30 s, jittered. */
  readonly backoff?: BackoffPolicy;
  /** A session that lasted this long starts the backoff schedule over; default 30 000. */
  readonly stableSessionMs?: number;
  /** Bound on opening a session and running its hooks; default 30 000. */
  readonly setupTimeoutMs?: number;
  /** Bound on closing a client; default 5 000. */
  readonly closeTimeoutMs?: number;
  readonly sleep?: SleepFn;
}

/** IoT Hub connection counters and state (secret-free). */
export interface ConnectionStats {
  readonly connected: boolean;
  /** Sessions established since start. */
  readonly sessions: number;
  /** Attempts that failed before a session was established. */
  readonly failedAttempts: number;
  readonly connectedSinceMs?: number;
  readonly lastError?: { readonly message: string; readonly atMs: number };
}

/** Events of ModuleConnection. */
export interface ModuleConnectionEvents {
  /** A session is established (hooks done). */
  session: [client: ModuleClient];
  /** The established session ended; the loop reconnects. */
  lost: [reason: string];
}

const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitterRatio: 0.5,
};

/**
 * Keeps one IoT Hub session for a module, forever: creates a client, opens it, runs the session hooks, and when
 * the session is lost (or a hook breaks it) closes that client and starts over with a fresh one after a backoff.
 * The SDK's own retries are switched off (NO_RETRY_POLICY) so that exactly one loop decides. Nothing here ever
 * stops the module's data path: losing IoT Hub only pauses configuration and reporting.
 */
export class ModuleConnection extends EventEmitter<ModuleConnectionEvents> {
  private readonly hooks: SessionHook[] = [];
  private readonly abort = new AbortController();
  private readonly breakers = new Map<ModuleClient, (reason: string) => void>();
  private current: ModuleClient | undefined;
  private loop: Promise<void> | undefined;
  private counters = { sessions: 0, failedAttempts: 0 };
  private connectedSinceMs: number | undefined;
  private lastError: ConnectionStats['lastError'];

  constructor(private readonly options: ModuleConnectionOptions) {
    super();
  }

  /** Registers work for every new session, run in registration order; a failing hook fails the attempt. */
  onSession(hook: SessionHook): void {
    this.hooks.push(hook);
  }

  /** The client of the established session, if there is one. */
  get client(): ModuleClient | undefined {
    return this.current;
  }

  /** Starts the connection loop (idempotent). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Ends `client`'s session (a failed twin read, a lost subscription): the loop reconnects with a fresh client. */
  breakSession(client: ModuleClient, reason: string): void {
    this.breakers.get(client)?.(reason);
  }

  /** The client of the established session, or a TWIN_NOT_CONNECTED error. */
  requireClient(): ModuleClient {
    if (this.current) return this.current;
    if (this.abort.signal.aborted)
      throw new TwinError('TWIN_STOPPED', 'the IoT Hub connection was stopped', false);
    throw new TwinError('TWIN_NOT_CONNECTED', 'no IoT Hub session', true);
  }

  /** A snapshot of the connection state. */
  stats(): ConnectionStats {
    return {
      connected: this.current !== undefined,
      ...this.counters,
      ...(this.connectedSinceMs !== undefined && { connectedSinceMs: this.connectedSinceMs }),
      ...(this.lastError && { lastError: this.lastError }),
    };
  }

  /** Closes the session and stops reconnecting; resolves when the client is closed. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const backoff = new Backoff(this.options.backoff ?? DEFAULT_BACKOFF);
    const wait = this.options.sleep ?? defaultSleep;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const outcome = await this.session();
      if (outcome.establishedForMs !== undefined) {
        logger.warn(
          { reason: outcome.reason },
          'IoT Hub session lost; forwarding continues on the last configuration',
        );
        this.emit('lost', outcome.reason);
        if (outcome.establishedForMs >= (this.options.stableSessionMs ?? 30_000)) backoff.reset();
      } else if (!signal.aborted) {
        this.counters.failedAttempts += 1;
        logger.warn(
          { reason: outcome.reason, attempt: backoff.attempt + 1 },
          'IoT Hub connection attempt failed',
        );
      }
      if (signal.aborted) break;
      this.lastError = { message: outcome.reason, atMs: Date.now() };
      await wait(backoff.next(), signal).catch(() => undefined);
    }
  }

  // One client from creation to close. Resolves with how long it was established (undefined: never) and why it ended.
  private async session(): Promise<{ establishedForMs?: number; reason: string }> {
    const stopSignal = this.abort.signal;
    // Aborted when this session ends, so hooks can stop work that belongs to it.
    const sessionAbort = new AbortController();
    let endSession: (reason: string) => void = () => undefined;
    const ended = new Promise<string>((resolve) => {
      endSession = (reason) => {
        sessionAbort.abort();
        resolve(reason);
      };
    });
    const onStop = (): void => endSession('stopped');
    stopSignal.addEventListener('abort', onStop, { once: true });
    let client: ModuleClient | undefined;
    let establishedAtMs: number | undefined;
    try {
      client = this.options.createClient
        ? await this.options.createClient()
        : await moduleClientFromEnvironment();
      const opened = client;
      opened.setRetryPolicy(NO_RETRY_POLICY);
      opened.on('error', (err: unknown) =>
        this.options.logger.warn({ err: describeSdkError(err) }, 'IoT Hub client error'),
      );
      opened.on('disconnect', (result: unknown) => endSession(`disconnected: ${describeDisconnect(result)}`));
      this.breakers.set(opened, endSession);
      const setup = (async () => {
        await opened.open();
        for (const hook of this.hooks) await hook(opened, sessionAbort.signal);
      })();
      const failure = await raceSetup(setup, ended, this.options.setupTimeoutMs ?? 30_000);
      if (failure !== undefined) return { reason: failure };
      establishedAtMs = Date.now();
      this.current = opened;
      this.connectedSinceMs = establishedAtMs;
      this.counters.sessions += 1;
      this.options.logger.info({ session: this.counters.sessions }, 'IoT Hub session established');
      this.emit('session', opened);
      const reason = await ended;
      return { reason, establishedForMs: Date.now() - establishedAtMs };
    } catch (err) {
      const reason = describeSdkError(err);
      return establishedAtMs === undefined
        ? { reason }
        : { reason, establishedForMs: Date.now() - establishedAtMs };
    } finally {
      stopSignal.removeEventListener('abort', onStop);
      sessionAbort.abort();
      this.current = undefined;
      this.connectedSinceMs = undefined;
      if (client) {
        this.breakers.delete(client);
        await closeQuietly(client, this.options.closeTimeoutMs ?? 5_000);
      }
    }
  }
}

// Resolves undefined when setup finished, else the reason it did not (failure, loss, or timeout).
async function raceSetup(
  setup: Promise<void>,
  ended: Promise<string>,
  timeoutMs: number,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`session setup took longer than ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      setup.then(
        () => undefined,
        (err: unknown) => describeSdkError(err),
      ),
      ended,
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeQuietly(client: ModuleClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.close().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.removeAllListeners();
    // A late SDK 'error' after close must not crash the process.
    client.on('error', () => undefined);
  }
}

function describeDisconnect(result: unknown): string {
  const inner = (result as { reason?: unknown; transportObj?: unknown } | undefined)?.transportObj;
  return inner === undefined ? 'connection closed' : describeSdkError(inner);
}
