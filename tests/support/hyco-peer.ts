import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the hyco-ws peer process needs (see hyco-peer-main.js). */
export interface HycoPeerConfig {
  readonly mode: 'listen' | 'send';
  readonly namespace: string;
  readonly path: string;
  readonly keyName: string;
  readonly key: string;
  /** Bytes to send (send mode). */
  readonly bytes?: number;
}

/** One line the peer printed. */
export interface HycoPeerEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

/**
 * An unmodified hyco-ws client in a child process started with NODE_EXTRA_CA_CERTS pointing at the sandbox
 * CA (Node reads that variable only at start-up, so it cannot be set from inside the test process).
 */
export class HycoPeer {
  readonly events: HycoPeerEvent[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly tempDir: string,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as HycoPeerEvent);
      } catch {
        this.events.push({ event: 'stdout', line });
      }
      for (const wake of this.waiters) wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the peer; `caPem` is written to a temporary file for NODE_EXTRA_CA_CERTS. */
  static async start(config: HycoPeerConfig, caPem: string): Promise<HycoPeer> {
    const tempDir = await mkdtemp(join(tmpdir(), 'hyco-peer-'));
    const caFile = join(tempDir, 'ca.pem');
    await writeFile(caFile, caPem);
    const child = spawn(process.execPath, [join(__dirname, 'hyco-peer-main.js'), JSON.stringify(config)], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, NODE_NO_WARNINGS: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new HycoPeer(child, tempDir);
  }

  /** Resolves with the first event named `name` (already seen or future); fails after `timeoutMs`. */
  async waitFor(name: string, timeoutMs = 15_000): Promise<HycoPeerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === name);
      if (found) return found;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0)
        throw new Error(
          `hyco-ws peer: no '${name}' event; saw ${JSON.stringify(this.events)}; stderr ${this.stderr.join('')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(remainingMs, 200));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
      this.waiters = [];
    }
  }

  /** Resolves with the exit code once the peer has exited by itself. */
  exitCode(): Promise<number | null> {
    return this.exited;
  }

  /** Ends the peer (closing its stdin), kills it by pid if it lingers, and removes its temporary CA file. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin!.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.tempDir, { recursive: true, force: true });
  }
}
