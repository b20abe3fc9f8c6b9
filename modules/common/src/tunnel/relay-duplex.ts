import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import {
  closeReason,
  isCleanClose,
  isSendableCloseCode,
  TunnelCloseCode,
  tunnelErrorFromClose,
} from './close-codes';
import { isTunnelError, TunnelError } from './errors';
import { FIN_FRAME } from './half-close';

/** Options for {@link RelayDuplex}. */
export interface RelayDuplexOptions {
  /** Both ends agreed to carry half-close with `hrf:fin` text frames (otherwise end of stream closes the WebSocket). */
  readonly halfClose: boolean;
  /** Bytes that arrived in the same frame as the preamble (or its reply); delivered first. */
  readonly initialBytes?: Buffer;
  /** Readable buffer before the WebSocket is paused (bytes). */
  readonly readableHighWaterMark?: number;
  /** Writable buffer before `write()` returns false (bytes). */
  readonly writableHighWaterMark?: number;
}

/** Default buffer sizes: one typical socket read (64 KiB) each way keeps memory bounded without stalling the pipe. */
export const DEFAULT_RELAY_HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * How long a tunnel we abort waits for the peer's answering close frame before it drops the connection. The
 * answer normally takes one round trip to the relay; ws's own wait (30 s) would pin both ends' sockets, the
 * target connection and the route's budget whenever the peer cannot answer in time.
 */
export const ABORT_CLOSE_GRACE_MS = 500;

// ws spreads its defaults over this object on every send; a shared constant avoids one allocation per chunk.
const SEND_BINARY = Object.freeze({ binary: true });

type WriteCallback = (error?: Error | null) => void;

/**
 * A byte stream over one tunnel WebSocket. Writes become binary frames and complete only once ws has flushed
 * them to its socket, so writers feel backpressure; incoming binary frames are pushed and the WebSocket is
 * paused while the reader is behind. With half-close, `end()` sends `hrf:fin` and the WebSocket closes (1000)
 * once both directions have ended; without it, `end()` closes the WebSocket (azbridge behaviour). Abnormal
 * closes surface as a {@link TunnelError}; destroying with a TunnelError sends its close code to the peer.
 *
 * On a client WebSocket ws masks written buffers in place: do not reuse a buffer after writing it.
 */
export class RelayDuplex extends Duplex {
  /** Whether `hrf:fin` half-close was negotiated for this tunnel. */
  readonly halfClose: boolean;
  private localEnded = false;
  /** Our `hrf:fin` reached the socket: only then may a close frame (and a close timeout) follow it. */
  private finFlushed = false;
  /** We closed with 1000 after our side was done: a close handshake cut short (1006) then loses nothing. */
  private closedNormally = false;
  private remoteEnded = false;
  /** The WebSocket closed cleanly: nothing more can be written, late writes are discarded (the peer left). */
  private peerClosed = false;
  private wsClosed = false;
  private wsError: Error | undefined;
  private pendingWrite: WriteCallback | undefined;
  private onWsClosedForDestroy: (() => void) | undefined;
  private closeGraceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    options: RelayDuplexOptions,
  ) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: options.readableHighWaterMark ?? DEFAULT_RELAY_HIGH_WATER_MARK_BYTES,
      writableHighWaterMark: options.writableHighWaterMark ?? DEFAULT_RELAY_HIGH_WATER_MARK_BYTES,
    });
    this.halfClose = options.halfClose;
    ws.binaryType = 'nodebuffer';
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    if (options.initialBytes && options.initialBytes.length > 0 && !this.push(options.initialBytes))
      ws.pause();
    if (ws.readyState !== WebSocket.OPEN) {
      // Handed a WebSocket that is already going away: its 'close' event settles us, or it already fired.
      if (ws.readyState === WebSocket.CLOSED) process.nextTick(() => this.onClose(1006, Buffer.alloc(0)));
    }
  }

  /** Bytes ws has queued but not yet written to its socket (for memory bounds and diagnostics). */
  get relayBufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    // Destroyed: we only read on to reach the peer's close frame; what arrives before it has nowhere to go.
    if (this.destroyed) return;
    if (isBinary || !this.halfClose) {
      const chunk = data as Buffer;
      if (chunk.length === 0) return;
      if (this.remoteEnded) {
        this.destroy(
          new TunnelError('TUNNEL_PROTOCOL', 'data after fin', false, TunnelCloseCode.PROTOCOL_ERROR),
        );
        return;
      }
      if (!this.push(chunk)) this.ws.pause();
      return;
    }
    // Text frames are control frames once half-close is agreed; unknown ones are ignored for forward compatibility.
    if ((data as Buffer).toString('utf8') !== FIN_FRAME || this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
    this.closeIfBothEnded();
  };

  private readonly onError = (err: Error): void => {
    // ws always follows 'error' with 'close'; keep the cause for the error we raise there.
    this.wsError ??= err;
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    if (this.wsClosed) return;
    this.wsClosed = true;
    clearTimeout(this.closeGraceTimer);
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    this.ws.off('error', this.onError);
    const pendingWrite = this.pendingWrite;
    this.pendingWrite = undefined;
    if (this.onWsClosedForDestroy) {
      this.onWsClosedForDestroy();
      return;
    }
    if (this.destroyed) return;
    if (!isCleanClose(code) && !this.endedBeforeLoss(code)) {
      this.destroy(tunnelErrorFromClose(code, reason.toString('utf8'), this.wsError));
      return;
    }
    // With half-close agreed the peer's end of stream is its hrf:fin; a clean close without one cut its stream
    // short (a relay or peer that gave up), and must not reach our reader as a complete answer.
    if (this.halfClose && !this.remoteEnded) {
      const said = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
      this.destroy(
        new TunnelError(
          'TUNNEL_CLOSED_EARLY',
          `peer closed the tunnel (${code}) before its fin${said}`,
          true,
          code,
        ),
      );
      return;
    }
    this.peerClosed = true;
    pendingWrite?.();
    if (!this.remoteEnded) {
      this.remoteEnded = true;
      this.push(null);
    }
    // The write side can never finish now; once the reader has taken every byte, we are done.
    if (!this.writableEnded) {
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
    }
  };

  private readonly afterSend = (err?: Error | null): void => {
    // A failed send means the socket is gone; ws's 'close' follows and decides the outcome.
    if (err) return;
    const cb = this.pendingWrite;
    this.pendingWrite = undefined;
    cb?.();
  };

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    if (this.peerClosed) return callback();
    // Never send an empty binary frame: azbridge reads a zero-length message as end of stream.
    if (chunk.length === 0) return callback();
    this.pendingWrite = callback;
    if (this.ws.readyState !== WebSocket.OPEN) return; // closing: 'close' settles the callback
    this.ws.send(chunk, SEND_BINARY, this.afterSend);
  }

  override _final(callback: WriteCallback): void {
    if (this.peerClosed || this.wsClosed) return callback();
    this.localEnded = true;
    this.pendingWrite = callback;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.halfClose) {
      this.ws.send(FIN_FRAME, (err) => {
        this.afterSend(err);
        if (err) return;
        this.finFlushed = true;
        this.closeIfBothEnded();
      });
    } else {
      // azbridge behaviour: end of stream closes the WebSocket; our readable ends when the close completes.
      this.pendingWrite = undefined;
      this.closedNormally = true;
      this.ws.close(TunnelCloseCode.NORMAL);
      callback();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.wsClosed) return callback(error);
    this.onWsClosedForDestroy = () => callback(error);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(...this.abortCloseFrame(error));
    // Already closing or just closed: either way 'close' calls back, soon.
    this.finishAbortClose();
  }

  private abortCloseFrame(error: Error | null): [number, string?] {
    if (error) {
      if (isTunnelError(error) && error.closeCode !== undefined && isSendableCloseCode(error.closeCode)) {
        return [error.closeCode, closeReason(error.message)];
      }
      return [TunnelCloseCode.INTERNAL_ERROR, 'internal error'];
    }
    if (this.localEnded && this.remoteEnded) return [TunnelCloseCode.NORMAL];
    // Destroyed mid-stream without an error: not a clean end, so the peer must not mistake it for one.
    return [TunnelCloseCode.GOING_AWAY, 'tunnel aborted'];
  }

  /**
   * We gave up on the tunnel and sent (or are sending) our close frame. If the WebSocket is paused because our
   * reader was behind (a client or target that stopped reading, then left), the peer's answer sits behind data
   * nobody will read: waiting for it would pin both ends' sockets, the target connection and the route's budget
   * until ws's 30 s close timeout, and reading it all would cost the CPU of everything in flight. So drop the
   * connection at once (the close frame has normally been written; if not, the peer sees the connection lost,
   * which ends its side just as well). Otherwise give the answer a short grace.
   */
  private finishAbortClose(): void {
    if (this.ws.isPaused) {
      this.ws.terminate();
      return;
    }
    if (this.closeGraceTimer !== undefined) return;
    this.closeGraceTimer = setTimeout(() => this.ws.terminate(), ABORT_CLOSE_GRACE_MS);
    this.closeGraceTimer.unref();
  }

  /**
   * A connection lost (1006) after the tunnel was complete is no failure: both fins were exchanged, or we closed
   * normally after our last byte reached the socket. The close handshake is bounded (RELAY_CLOSE_TIMEOUT_MS on
   * our relay sockets), so a slow or busy relay may cut it short; nothing is lost then.
   */
  private endedBeforeLoss(code: number): boolean {
    return code === 1006 && (this.closedNormally || (this.finFlushed && this.remoteEnded));
  }

  private closeIfBothEnded(): void {
    if (this.finFlushed && this.remoteEnded && this.ws.readyState === WebSocket.OPEN) {
      this.closedNormally = true;
      this.ws.close(TunnelCloseCode.NORMAL);
    }
  }
}
