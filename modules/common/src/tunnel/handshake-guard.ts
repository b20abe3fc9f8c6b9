import WebSocket from 'ws';
import { TunnelCloseCode, tunnelErrorFromClose } from './close-codes';
import { TunnelError } from './errors';

/** The error message and WebSocket close reason one way of giving up on a handshake produces. */
export interface HandshakeGiveUp {
  readonly message: string;
  readonly reason: string;
}

/** What {@link HandshakeGuard} watches for while one side of a tunnel waits for the other's first frames. */
export interface HandshakeGuardOptions {
  /** Aborts the wait (the WebSocket is closed with 1001). */
  readonly signal?: AbortSignal;
  /** How long the other side has to answer (then close 4408 and `TUNNEL_HANDSHAKE_TIMEOUT`). */
  readonly timeoutMs: number;
  /** `TUNNEL_ABORTED` error text and close reason when `signal` aborts. */
  readonly aborted: HandshakeGiveUp;
  /** `TUNNEL_HANDSHAKE_TIMEOUT` error text and close reason when `timeoutMs` passes. */
  readonly timedOut: HandshakeGiveUp;
}

const noop = (): void => undefined;

/**
 * The plumbing both tunnel handshakes share (sender waiting for the reply, listener waiting for the preamble): it
 * rejects the handshake's promise when the WebSocket closes (with the close code's error), when `signal` aborts or
 * when time runs out, and takes every listener and the timer off again once the handshake ends either way.
 */
export class HandshakeGuard {
  private wsError: Error | undefined;
  // Held in a field: fail() may run before the timer exists (early failure paths).
  private timer: NodeJS.Timeout | undefined;
  private onMessage: (data: WebSocket.RawData, isBinary: boolean) => void = noop;

  constructor(
    private readonly ws: WebSocket,
    private readonly reject: (err: TunnelError) => void,
    private readonly options: HandshakeGuardOptions,
  ) {}

  /** Checks the WebSocket is open and the wait not aborted already; false when it rejected for either. */
  ready(): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.reject(new TunnelError('TUNNEL_RELAY_LOST', 'WebSocket is not open', true));
      return false;
    }
    if (this.options.signal?.aborted) {
      this.onAbort();
      return false;
    }
    return true;
  }

  /** Starts watching: frames go to `onMessage` (as Buffers), and close, error, abort and the timer are handled. */
  listen(onMessage: (data: WebSocket.RawData, isBinary: boolean) => void): void {
    this.onMessage = onMessage;
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    this.ws.on('error', this.onError);
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      const { message, reason } = this.options.timedOut;
      this.fail(
        new TunnelError('TUNNEL_HANDSHAKE_TIMEOUT', message, true),
        TunnelCloseCode.IDLE_TIMEOUT,
        reason,
      );
    }, this.options.timeoutMs);
  }

  /** Stops watching; the handshake succeeded and the caller hands the WebSocket on within this event. */
  done(): void {
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    this.ws.off('error', this.onError);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    clearTimeout(this.timer);
  }

  /** Stops watching and rejects with `err`, first closing the WebSocket with `closeCode` (and `reason`) when given. */
  fail(err: TunnelError, closeCode?: number, reason?: string): void {
    this.done();
    if (closeCode !== undefined) {
      // ws may still report a socket error while closing; nobody else listens yet.
      this.ws.on('error', noop);
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(closeCode, reason);
    }
    this.reject(err);
  }

  private readonly onError = (err: Error): void => {
    this.wsError ??= err;
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    this.fail(tunnelErrorFromClose(code, reason.toString('utf8'), this.wsError));
  };

  private readonly onAbort = (): void => {
    const { message, reason } = this.options.aborted;
    this.fail(new TunnelError('TUNNEL_ABORTED', message, false), TunnelCloseCode.GOING_AWAY, reason);
  };
}
