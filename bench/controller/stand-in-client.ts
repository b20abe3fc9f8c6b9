// The parent side of a stand-in process (stand-in-process.ts): forks it under ts-node and pairs requests with
// replies over its IPC channel.
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { StandInReply, StandInRequest } from './stand-in-protocol';

const ENTRY = resolve(__dirname, 'stand-in-process.ts');
const ROOT = resolve(__dirname, '..', '..');

type RequestBody = StandInRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** A running stand-in process. */
export class StandInProcess<Ready> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(
    private readonly child: ChildProcess,
    /** What the stand-in needs the parent to know to connect (the hub's connection string, ARM's endpoint…). */
    readonly ready: Ready,
  ) {
    child.on('message', (reply: StandInReply) => this.settle(reply));
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`stand-in exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks `stand-in-process.ts {role} {args}` and waits for its ready message. */
  static start<Ready>(role: 'hub' | 'arm', args: readonly string[]): Promise<StandInProcess<Ready>> {
    const child = fork(ENTRY, [role, ...args], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolveStart, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${role} stand-in exited (${code}) before ready`));
      child.once('exit', onExit);
      child.once('message', (reply: StandInReply) => {
        child.off('exit', onExit);
        if (!reply.ok) reject(new Error(reply.error));
        else resolveStart(new StandInProcess<Ready>(child, reply.value as Ready));
      });
    });
  }

  /** The process id (its CPU time is also in /proc/{pid}/stat). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Sends one request and resolves with its reply's value. */
  request(body: RequestBody): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolveRequest, reject) => {
      this.pending.set(id, { resolve: resolveRequest, reject });
      this.child.send({ ...body, id });
    });
  }

  /** CPU time (user + system) the stand-in has used so far, in ms. */
  async cpuMs(): Promise<number> {
    const u = (await this.request({ op: 'cpu' })) as NodeJS.CpuUsage;
    return (u.user + u.system) / 1000;
  }

  /** Stops the stand-in and waits for its process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.request({ op: 'stop' }).catch(() => this.child.kill('SIGKILL'));
    await exited;
  }

  private settle(reply: StandInReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(new Error(reply.error));
  }
}
