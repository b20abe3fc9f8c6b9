import { EventEmitter } from 'node:events';
import type { ModuleClient, Twin } from 'azure-iot-device';
import type { Logger } from '../log';
import { DesiredTracker, type DesiredDocument } from './desired-tracker';
import { describeSdkError, TwinError } from './errors';
import type { JsonObject } from './json';
import { splitSystemKeys } from './merge-patch';
import type { ModuleConnection } from './module-connection';

/** Events of TwinSource. */
export interface TwinSourceEvents {
  /** The complete desired document changed (first read, a patch merged in, or a re-read). */
  desired: [desired: DesiredDocument];
  /** A session read the twin: the reported section IoT Hub holds now (system keys removed). */
  reported: [reported: JsonObject];
}

/**
 * The module twin as a stream of complete desired documents. On every session it subscribes to desired patches,
 * waits for the subscription, then reads the full twin (so a patch made at any moment is either in the read or
 * arrives after it), and emits the document if it differs from the one in force — after a reconnect this is the
 * resynchronisation. Each patch is merged into the current document (merge patch: maps merge, `null` deletes)
 * and emitted whole; a patch that skips a version triggers a full re-read instead of a merge.
 */
export class TwinSource extends EventEmitter<TwinSourceEvents> {
  private readonly tracker = new DesiredTracker();
  private twin: Twin | undefined;

  constructor(
    private readonly connection: ModuleConnection,
    private readonly logger: Logger,
  ) {
    super();
    connection.onSession((client, signal) => this.attach(client, signal));
  }

  /** The desired document in force and its version, if one was read. */
  get current(): { readonly document: JsonObject; readonly version: number } | undefined {
    const { document, version } = this.tracker;
    return document && version !== undefined ? { document, version } : undefined;
  }

  /** Sends a reported patch on the current session. */
  updateReported(patch: JsonObject): Promise<void> {
    const twin = this.twin;
    if (!twin) return Promise.reject(new TwinError('TWIN_NOT_CONNECTED', 'no IoT Hub session', true));
    return new Promise<void>((resolve, reject) => {
      twin.properties.reported.update(patch, (err?: Error) =>
        err
          ? reject(
              new TwinError(
                'TWIN_OPERATION_FAILED',
                `reported patch failed: ${describeSdkError(err)}`,
                true,
                { cause: err },
              ),
            )
          : resolve(),
      );
    });
  }

  private async attach(client: ModuleClient, signal: AbortSignal): Promise<void> {
    this.twin = undefined;
    const twin = await client.getTwin();
    // The SDK emits 'properties.desired' for full reads too (the object it keeps as properties.desired, also
    // replayed on the next tick to a new listener); only other objects are pushed patches.
    const fullReads = new WeakSet<object>([twin.properties.desired]);
    let reading = true;
    twin.on('error', (err: unknown) => {
      this.logger.warn({ err: describeSdkError(err) }, 'twin error; reconnecting');
      this.connection.breakSession(client, 'twin error');
    });
    twin.on('properties.desired', (payload: unknown) => {
      if (payload === twin.properties.desired || fullReads.has(payload as object)) return;
      // A patch that arrives while a full read is outstanding is contained in that read.
      if (reading) return;
      const result = this.tracker.patch(payload);
      if (result.kind === 'changed') this.emit('desired', result.desired);
      else if (result.kind === 'gap') {
        this.logger.info(
          { expected: result.expected, received: result.received },
          'desired patch out of sequence; re-reading the twin',
        );
        reading = true;
        void this.read(client, twin, 'resync', signal).finally(() => (reading = false));
      }
    });
    await enableDesiredUpdates(twin);
    await this.read(client, twin, 'connect', signal, true);
    reading = false;
    if (signal.aborted) return;
    this.twin = twin;
    signal.addEventListener('abort', () => {
      if (this.twin === twin) this.twin = undefined;
    });
  }

  // A full read; on failure the session is broken so the connection loop starts over (and reads again).
  private async read(
    client: ModuleClient,
    twin: Twin,
    cause: 'connect' | 'resync',
    signal: AbortSignal,
    rethrow = false,
  ): Promise<void> {
    try {
      await twin.get();
    } catch (err) {
      if (rethrow) throw err;
      this.connection.breakSession(client, `twin read failed: ${describeSdkError(err)}`);
      return;
    }
    if (signal.aborted) return;
    if (cause === 'connect') this.emit('reported', splitSystemKeys(twin.properties.reported).document);
    const result = this.tracker.full(twin.properties.desired, cause);
    if (result.kind === 'changed') this.emit('desired', result.desired);
  }
}

// Resolves once IoT Hub acknowledged the desired-patch subscription (the SDK's on() starts it without telling when).
function enableDesiredUpdates(twin: Twin): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    twin.enableTwinDesiredPropertiesUpdates((err?: Error) => (err ? reject(err) : resolve())),
  );
}
