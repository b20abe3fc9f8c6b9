import WebSocket from 'ws';

/**
 * Pings a WebSocket every `pingIntervalMs` and calls `onDead` (once) when a pong has not come back within
 * `pongTimeoutMs`. Idle channels get dropped by NATs and load balancers; a ping both keeps them alive and
 * proves the path still works.
 */
export class KeepAlive {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private readonly onPong = (): void => {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly pingIntervalMs: number,
    private readonly pongTimeoutMs: number,
    private readonly onDead: () => void,
  ) {}

  /** Starts pinging. */
  start(): this {
    this.ws.on('pong', this.onPong);
    this.pingTimer = setInterval(() => {
      if (this.pongTimer !== undefined || this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.ping();
      this.pongTimer = setTimeout(() => {
        this.stop();
        this.onDead();
      }, this.pongTimeoutMs);
    }, this.pingIntervalMs);
    return this;
  }

  /** Stops pinging and forgets any pending pong. */
  stop(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = undefined;
    this.ws.off('pong', this.onPong);
  }
}
