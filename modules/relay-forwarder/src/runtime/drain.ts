/** A tunnel that can be waited for and, at a deadline, ended. */
export interface Drainable {
  /** Settles when the tunnel has ended and released its sockets. */
  readonly done: Promise<void>;
  /** Ends the tunnel now (close code 1001 to the sender, the target socket destroyed); false if it had ended. */
  abort(reason: string): boolean;
}

/**
 * Lets tunnels finish on their own for up to `timeoutMs`, then aborts the ones still running; resolves once
 * every one has ended. Returns how many had to be aborted. `timeoutMs` 0 aborts at once.
 */
export async function drainTunnels(
  tunnels: Iterable<Drainable>,
  timeoutMs: number,
  reason: string,
): Promise<number> {
  const pending = new Set(tunnels);
  if (pending.size === 0) return 0;
  for (const tunnel of pending) void tunnel.done.then(() => pending.delete(tunnel));
  let aborted = 0;
  const abortAll = (): void => {
    for (const tunnel of pending) if (tunnel.abort(reason)) aborted += 1;
  };
  const timer = timeoutMs > 0 ? setTimeout(abortAll, timeoutMs) : undefined;
  if (timeoutMs <= 0) abortAll();
  await Promise.all([...pending].map((t) => t.done));
  clearTimeout(timer);
  return aborted;
}
