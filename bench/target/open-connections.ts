// The connections a bench target holds open: counted for the workloads that check nothing is left behind, and
// waited on without polling the count in a busy loop.
import type { Server, Socket } from 'node:net';

/** The open connections of one target server, with waits on their count. */
export class OpenConnections {
  private readonly sockets = new Set<Socket>();
  private waiters: Array<() => void> = [];

  /** Connections open right now. */
  get size(): number {
    return this.sockets.size;
  }

  /** Counts `socket` as open until it closes. */
  add(socket: Socket): void {
    this.sockets.add(socket);
    this.wake();
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.wake();
    });
  }

  /** Resolves true once the count equals `count`, false if that did not happen within `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size !== count) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 100));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
    return true;
  }

  /** Destroys every open connection and closes `server`; nothing is held afterwards. */
  async closeWith(server: Server): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.wake();
  }

  private wake(): void {
    const current = this.waiters;
    this.waiters = [];
    for (const w of current) w();
  }
}
