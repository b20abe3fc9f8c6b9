// A command a user runs (`npm start`, `npm run demo:tunnel`, a printed curl line), spawned from the repository root
// with its output collected, for the end-to-end tests that read what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** How a command ended: its exit code, or the signal that stopped it. */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned command whose output (stdout and stderr, interleaved) is collected. */
export interface CommandRun {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the command has exited and its output streams closed. */
  readonly exited: Promise<CommandExit>;
  /** Waits (bounded, 60 s unless told) until the output matches `pattern`; rejects as soon as the command exits. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/**
 * Spawns `command` in the repository root with `env`. `detached` puts it in its own process group, so a test can
 * signal the group (`process.kill(-pid, 'SIGINT')`) the way a terminal does on Ctrl-C.
 */
export function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  detached = false,
): CommandRun {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let text = '';
  const wakers = new Set<() => void>();
  const take = (c: Buffer): void => {
    text += c.toString();
    for (const wake of wakers) wake();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  let done = false;
  const exited = once(child, 'close').then(([code, signal]) => {
    done = true;
    for (const wake of wakers) wake();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = pattern.exec(text);
          if (match) finish(() => resolveMatch(match));
          else if (done) finish(() => reject(new Error(`exited before ${pattern}:\n${text}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${pattern} in:\n${text}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          wakers.delete(check);
          settle();
        };
        wakers.add(check);
        check();
      });
    },
  };
}
