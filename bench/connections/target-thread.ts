import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startConnectionTarget, type ConnectionTarget } from './target';

// The target runs in a worker thread of the bench process: its sink hashing bulk bytes and its echo then have
// their own event loop, and the clients' loop (where round trips are timed) does only client work.

interface Request {
  readonly id: number;
  readonly op: 'open' | 'wait' | 'close';
  readonly count?: number;
  readonly timeoutMs?: number;
}

const WORKER_KIND = 'bench-connection-target';

async function serveInWorker(): Promise<void> {
  const port = parentPort!;
  const target = await startConnectionTarget();
  port.on('message', (m: Request) => {
    const reply = (value: unknown): void => port.postMessage({ id: m.id, value });
    if (m.op === 'open') void target.openConnections().then(reply);
    else if (m.op === 'wait') void target.waitForOpenConnections(m.count!, m.timeoutMs!).then(reply);
    else void target.close().then(() => (reply(true), port.close()));
  });
  port.postMessage({ id: 0, value: target.port });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) void serveInWorker();

/** Starts the connection target (target.ts) in a worker thread; the handle talks to it by messages. */
export async function startConnectionTargetThread(): Promise<ConnectionTarget> {
  // Under ts-node (how the bench runs) the worker registers it too before loading this file.
  const loader = __filename.endsWith('.ts') ? "require('ts-node/register/transpile-only');" : '';
  const worker = new Worker(`${loader} require(${JSON.stringify(__filename)});`, {
    eval: true,
    workerData: { kind: WORKER_KIND },
  });
  const waiting = new Map<number, (value: unknown) => void>();
  let failure: Error | undefined;
  worker.on('message', (m: { id: number; value: unknown }) => {
    waiting.get(m.id)?.(m.value);
    waiting.delete(m.id);
  });
  const failAll = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.values()) w(failure);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the connection target thread exited')));
  let nextId = 1;
  const call = async <T>(message: Omit<Request, 'id'> | null, id = nextId++): Promise<T> => {
    if (failure) throw failure;
    const value = await new Promise<unknown>((resolve) => {
      waiting.set(id, resolve);
      if (message) worker.postMessage({ ...message, id });
    });
    if (value instanceof Error) throw value;
    return value as T;
  };
  const port = await call<number>(null, 0);
  return {
    host: '127.0.0.1',
    port,
    openConnections: () => call<number>({ op: 'open' }),
    waitForOpenConnections: (count, timeoutMs) => call<boolean>({ op: 'wait', count, timeoutMs }),
    async close() {
      if (failure) return;
      await call<boolean>({ op: 'close' });
      await worker.terminate();
    },
  };
}
