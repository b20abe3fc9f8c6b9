import { EventEmitter } from 'node:events';
import type { ModuleClient } from 'azure-iot-device';
import pino from 'pino';
import { isTwinError } from '../../../../../modules/common/src/twin/errors';
import { ModuleConnection } from '../../../../../modules/common/src/twin/module-connection';

/** A stand-in for the SDK's ModuleClient: open/close succeed or fail as the test says. */
class FakeClient extends EventEmitter {
  openResult: 'ok' | 'fail' | 'hang' = 'ok';
  opened = false;
  closed = false;
  retryPolicy: unknown;
  setRetryPolicy(policy: unknown): void {
    this.retryPolicy = policy;
  }
  open(): Promise<void> {
    if (this.openResult === 'fail') return Promise.reject(new Error('connect ECONNREFUSED'));
    if (this.openResult === 'hang') return new Promise(() => undefined);
    this.opened = true;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const FAST = { initialDelayMs: 10, maxDelayMs: 20, multiplier: 2, jitterRatio: 0 };

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('ModuleConnection', () => {
  let clients: FakeClient[];
  let next: () => FakeClient;
  let connection: ModuleConnection;

  beforeEach(() => {
    clients = [];
    next = () => new FakeClient();
    connection = new ModuleConnection({
      logger: pino({ level: 'silent' }),
      createClient: () => {
        const client = next();
        clients.push(client);
        return Promise.resolve(client as unknown as ModuleClient);
      },
      backoff: FAST,
      setupTimeoutMs: 200,
    });
  });
  afterEach(() => connection.stop());

  it('runs the session hooks on every session and reconnects with a fresh client after a disconnect', async () => {
    const hooked: unknown[] = [];
    const lost: string[] = [];
    connection.onSession((client) => {
      hooked.push(client);
      return Promise.resolve();
    });
    connection.on('lost', (reason) => lost.push(reason));
    connection.start();
    await until(() => connection.stats().connected);
    expect(clients[0]!.retryPolicy).toMatchObject({ shouldRetry: expect.any(Function) });
    expect(connection.client).toBe(clients[0]);

    clients[0]!.emit('disconnect', { transportObj: new Error('Connection to the server has been closed.') });
    await until(() => connection.stats().sessions === 2);
    expect(clients[0]!.closed).toBe(true);
    expect(hooked).toEqual([clients[0], clients[1]]);
    expect(lost).toEqual([expect.stringContaining('Connection to the server has been closed')]);
    expect(connection.client).toBe(clients[1]);
  });

  it('keeps trying when opening fails, and counts the attempts', async () => {
    let attempts = 0;
    next = () => {
      const client = new FakeClient();
      client.openResult = ++attempts < 4 ? 'fail' : 'ok';
      return client;
    };
    connection.start();
    await until(() => connection.stats().connected);
    expect(connection.stats()).toMatchObject({ sessions: 1, failedAttempts: 3 });
    expect(connection.stats().lastError?.message).toContain('ECONNREFUSED');
    expect(clients.slice(0, 3).every((c) => c.closed)).toBe(true);
  });

  it('fails an attempt whose hook fails or whose setup takes too long', async () => {
    let calls = 0;
    connection.onSession(() =>
      ++calls === 1 ? Promise.reject(new Error('twin read failed')) : Promise.resolve(),
    );
    let first = true;
    next = () => {
      const client = new FakeClient();
      if (first) client.openResult = 'hang';
      first = false;
      return client;
    };
    connection.start();
    await until(() => connection.stats().connected);
    // 1: open hangs past setupTimeoutMs; 2: the hook fails; 3: fine.
    expect(connection.stats()).toMatchObject({ sessions: 1, failedAttempts: 2 });
    expect(clients).toHaveLength(3);
  });

  it('breakSession ends a session (the loop opens a new one)', async () => {
    connection.start();
    await until(() => connection.stats().connected);
    connection.breakSession(clients[0]! as unknown as ModuleClient, 'twin error');
    await until(() => connection.stats().sessions === 2);
    expect(clients[0]!.closed).toBe(true);
  });

  it('stop closes the client and ends the loop; no client afterwards', async () => {
    connection.start();
    await until(() => connection.stats().connected);
    await connection.stop();
    expect(clients[0]!.closed).toBe(true);
    expect(connection.stats().connected).toBe(false);
    let error: unknown;
    try {
      connection.requireClient();
    } catch (err) {
      error = err;
    }
    expect(isTwinError(error, 'TWIN_STOPPED')).toBe(true);
    expect(clients).toHaveLength(1);
  });

  it('requireClient says TWIN_NOT_CONNECTED (retryable) before a session exists', () => {
    let error: unknown;
    try {
      connection.requireClient();
    } catch (err) {
      error = err;
    }
    expect(isTwinError(error, 'TWIN_NOT_CONNECTED') && error.retryable).toBe(true);
  });
});
