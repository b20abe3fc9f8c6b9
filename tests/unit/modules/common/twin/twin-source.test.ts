import { EventEmitter } from 'node:events';
import type { ModuleClient } from 'azure-iot-device';
import pino from 'pino';
import type { DesiredDocument } from '../../../../../modules/common/src/twin/desired-tracker';
import type { JsonObject } from '../../../../../modules/common/src/twin/json';
import { ModuleConnection } from '../../../../../modules/common/src/twin/module-connection';
import { TwinSource } from '../../../../../modules/common/src/twin/twin-source';

/**
 * A stand-in for the SDK's Twin with the behaviour TwinSource relies on: a full read replaces
 * `properties.desired` and emits that object; a new 'properties.desired' listener gets it again on the next tick;
 * a pushed patch is emitted as its own object.
 */
class FakeTwin extends EventEmitter {
  properties: { desired: JsonObject; reported: { update: (p: JsonObject, cb: (e?: Error) => void) => void } };
  reads = 0;
  reportedPatches: JsonObject[] = [];

  constructor(private readonly hub: { desired: JsonObject; reported: JsonObject }) {
    super();
    this.properties = { desired: {}, reported: this.reportedSection() };
    this.on('newListener', (event: string) => {
      if (event !== 'properties.desired') return;
      const value = this.properties.desired;
      process.nextTick(() => this.emit('properties.desired', value));
    });
  }

  get(): Promise<this> {
    this.reads += 1;
    this.properties = { desired: structuredClone(this.hub.desired), reported: this.reportedSection() };
    Object.assign(this.properties.reported, structuredClone(this.hub.reported));
    this.emit('properties.desired', this.properties.desired);
    return Promise.resolve(this);
  }

  enableTwinDesiredPropertiesUpdates(callback: (err?: Error) => void): void {
    setImmediate(() => callback());
  }

  /** IoT Hub pushes a patch (the SDK merges it into its copy and emits the patch). */
  push(patch: JsonObject): void {
    this.emit('properties.desired', patch);
  }

  private reportedSection() {
    return {
      update: (patch: JsonObject, cb: (e?: Error) => void) => {
        this.reportedPatches.push(patch);
        cb();
      },
    };
  }
}

class FakeClient extends EventEmitter {
  twin: FakeTwin | undefined;
  constructor(private readonly hub: { desired: JsonObject; reported: JsonObject }) {
    super();
  }
  setRetryPolicy(): void {}
  open(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  async getTwin(): Promise<FakeTwin> {
    this.twin = new FakeTwin(this.hub);
    return this.twin.get();
  }
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('TwinSource', () => {
  let hub: { desired: JsonObject; reported: JsonObject };
  let clients: FakeClient[];
  let connection: ModuleConnection;
  let source: TwinSource;
  let documents: DesiredDocument[];
  let reported: JsonObject[];

  beforeEach(() => {
    hub = {
      desired: { $version: 3, schemaVersion: 1, routes: { a: { port: 1 } } },
      reported: { $version: 9, old: 1 },
    };
    clients = [];
    connection = new ModuleConnection({
      logger: pino({ level: 'silent' }),
      createClient: () => {
        const client = new FakeClient(hub);
        clients.push(client);
        return Promise.resolve(client as unknown as ModuleClient);
      },
      backoff: { initialDelayMs: 5, maxDelayMs: 5, multiplier: 1, jitterRatio: 0 },
    });
    source = new TwinSource(connection, pino({ level: 'silent' }));
    documents = [];
    reported = [];
    source.on('desired', (d) => documents.push(d));
    source.on('reported', (r) => reported.push(r));
    connection.start();
  });
  afterEach(() => connection.stop());

  it('reads the whole twin once subscribed and emits it; the replayed read is not taken for a patch', async () => {
    await until(() => connection.stats().connected);
    await new Promise((resolve) => setImmediate(resolve));
    expect(documents).toEqual([
      { document: { schemaVersion: 1, routes: { a: { port: 1 } } }, version: 3, cause: 'connect' },
    ]);
    expect(reported).toEqual([{ old: 1 }]);
    // getTwin's read, then the read after the subscription: no third (re-)read.
    expect(clients[0]!.twin!.reads).toBe(2);
  });

  it('merges each following patch and emits the complete document', async () => {
    await until(() => connection.stats().connected);
    clients[0]!.twin!.push({ $version: 4, routes: { b: { port: 2, allow: ['10.0.0.0/8'] } } });
    clients[0]!.twin!.push({ $version: 5, routes: { a: null, b: { allow: ['127.0.0.0/8'] } } });
    expect(documents.slice(1)).toEqual([
      {
        document: { schemaVersion: 1, routes: { a: { port: 1 }, b: { port: 2, allow: ['10.0.0.0/8'] } } },
        version: 4,
        cause: 'patch',
      },
      {
        document: { schemaVersion: 1, routes: { b: { port: 2, allow: ['127.0.0.0/8'] } } },
        version: 5,
        cause: 'patch',
      },
    ]);
    expect(source.current?.version).toBe(5);
  });

  it('re-reads the twin when a patch skips a version, and emits what the read says', async () => {
    await until(() => connection.stats().connected);
    hub.desired = { $version: 6, schemaVersion: 1, routes: { c: { port: 3 } } };
    clients[0]!.twin!.push({ $version: 6, routes: { c: { port: 3 } } });
    await until(() => documents.length === 2);
    expect(documents[1]).toEqual({
      document: { schemaVersion: 1, routes: { c: { port: 3 } } },
      version: 6,
      cause: 'resync',
    });
    expect(clients[0]!.twin!.reads).toBe(3);
  });

  it('reads again on a new session: a change made meanwhile arrives, an unchanged twin does not re-emit', async () => {
    await until(() => connection.stats().connected);
    clients[0]!.emit('disconnect');
    await until(() => connection.stats().sessions === 2);
    expect(documents).toHaveLength(1);
    hub.desired = { $version: 7, schemaVersion: 1, routes: {} };
    clients[1]!.emit('disconnect');
    await until(() => connection.stats().sessions === 3);
    expect(documents[1]).toEqual({
      document: { schemaVersion: 1, routes: {} },
      version: 7,
      cause: 'connect',
    });
  });

  it('sends reported patches on the current session, and refuses without one', async () => {
    await expect(source.updateReported({ a: 1 })).rejects.toMatchObject({ code: 'TWIN_NOT_CONNECTED' });
    await until(() => connection.stats().connected);
    await source.updateReported({ a: 1 });
    expect(clients[0]!.twin!.reportedPatches).toEqual([{ a: 1 }]);
  });
});
