import { Duplex } from 'node:stream';
import { isSendableCloseCode, TunnelCloseCode, tunnelErrorFromClose } from '../tunnel/close-codes';
import { isTunnelError, TunnelError } from '../tunnel/errors';
import {
  encodeFrame,
  encodeReset,
  encodeWindow,
  FLAG_FIN,
  MUX_MAX_PAYLOAD_BYTES,
  MuxFrameType,
  MuxProtocolError,
} from './frame';
import type { MuxOpenMeta } from './open-meta';

/** Receive window of every stream, each way, at open (fixed in mux version 1). */
export const MUX_INITIAL_WINDOW = 256 * 1024;

/** Credit goes back to the sender once the reader took this many bytes (a quarter window keeps the pipe full). */
const CREDIT_THRESHOLD = MUX_INITIAL_WINDOW / 4;

/** Readable/writable buffer of a stream: one socket read, as for a classic tunnel (RelayDuplex). */
const STREAM_HIGH_WATER_MARK = 64 * 1024;

/** A credit above this is a peer granting more than it could ever hold: a protocol error. */
const MAX_CREDIT = 0x7fffffff;

/** What a stream needs from its session. */
export interface MuxStreamHost {
  /** Sends one frame; false when the connection is gone (the stream is then reset by the session). */
  send(frame: Buffer, callback?: (err?: Error | null) => void): boolean;
  /** The stream released every resource: the session stops tracking it. */
  forget(stream: MuxStream): void;
}

type Callback = (error?: Error | null) => void;

const noop = (): void => undefined;

/**
 * One multiplexed stream as a byte Duplex (docs/tunnel-protocol.md, "Multiplexed streams"). Writes become `DATA`
 * frames, never beyond the peer's credit: a write waits for `WINDOW` and completes once ws flushed its frame, so
 * the writer feels both the peer's reader and the shared socket. Received bytes are pushed at once (the window
 * bounds them) and credit goes back only for bytes the reader took. `end()` sends `FIN`; destroying with a
 * TunnelError sends `RESET` with its close code; a `RESET` received destroys the stream with the same TunnelError
 * a classic close frame gives.
 */
export class MuxStream extends Duplex {
  /** Settles when the listener answered an opened stream: `ACCEPT`, or rejects with the `RESET`'s TunnelError. */
  readonly accepted: Promise<void>;
  /** Always true: streams carry half-close with `FIN` (kept for the tunnel code's `halfClose` flag). */
  readonly halfClose = true;
  private sendCredit = MUX_INITIAL_WINDOW;
  private receiveRemaining = MUX_INITIAL_WINDOW;
  private receivedTotal = 0;
  private creditedTotal = 0;
  private finSent = false;
  private finReceived = false;
  /** A RESET went out or came in (or the connection is gone): nothing more is sent on this stream. */
  private resetDone = false;
  private answered: boolean;
  private creditWaiter: (() => void) | undefined;
  private pendingWrite: Callback | undefined;
  private resolveAccepted!: () => void;
  private rejectAccepted!: (err: TunnelError) => void;
  /** Why the stream ended before an answer (for the listener side's request adapter). */
  endedBeforeAnswer: TunnelError | undefined;

  constructor(
    readonly id: number,
    readonly meta: MuxOpenMeta,
    private readonly host: MuxStreamHost,
    /** Opened by this end (the gateway): it waits for `ACCEPT`. */
    readonly opener: boolean,
  ) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: STREAM_HIGH_WATER_MARK,
      writableHighWaterMark: STREAM_HIGH_WATER_MARK,
    });
    this.answered = false;
    this.accepted = new Promise<void>((resolve, reject) => {
      this.resolveAccepted = resolve;
      this.rejectAccepted = reject;
    });
    // Nobody may be waiting (a stream destroyed before anyone asked): never an unhandled rejection.
    this.accepted.catch(noop);
  }

  /** Whether the stream was accepted (opener) or answered with `accept()` (listener). */
  get isAccepted(): boolean {
    return this.answered && !this.endedBeforeAnswer;
  }

  /** Listener side: the target is connected; tells the gateway the stream is open. */
  accept(): void {
    if (this.opener || this.answered) throw new Error('mux stream already answered');
    if (this.destroyed || this.resetDone) {
      throw (
        this.endedBeforeAnswer ??
        new TunnelError('TUNNEL_CLOSED_EARLY', 'sender left before the reply', false)
      );
    }
    this.answered = true;
    this.host.send(encodeFrame(MuxFrameType.ACCEPT, 0, this.id));
  }

  /** Listener side: refuses the stream with a close code of docs/tunnel-protocol.md §2 instead of accepting it. */
  refuse(code: number, reason: string): void {
    if (this.opener || this.answered) throw new Error('mux stream already answered');
    this.answered = true;
    this.sendReset(code, reason);
    this.destroy();
  }

  /** Session: `ACCEPT` arrived for a stream this end opened. */
  onAccept(): void {
    if (!this.opener || this.answered) throw new MuxProtocolError(`unexpected ACCEPT on stream ${this.id}`);
    this.answered = true;
    this.resolveAccepted();
  }

  /** Session: `DATA` arrived. Throws a MuxProtocolError for data past the window or after `FIN`. */
  onData(payload: Buffer, fin: boolean): void {
    if (this.finReceived) throw new MuxProtocolError(`DATA after FIN on stream ${this.id}`);
    if (this.opener && !this.answered) throw new MuxProtocolError(`DATA before ACCEPT on stream ${this.id}`);
    if (payload.length > this.receiveRemaining)
      throw new MuxProtocolError(`DATA past the window on stream ${this.id}`);
    this.receiveRemaining -= payload.length;
    this.receivedTotal += payload.length;
    // Destroyed locally (RESET sent, peer's frames still in flight): drop, the session forgets the stream soon.
    if (this.destroyed) return;
    if (payload.length > 0) this.push(payload);
    if (fin) {
      this.finReceived = true;
      this.push(null);
    }
    this.returnCredit();
  }

  /** Session: `WINDOW` arrived. */
  onWindow(increment: number): void {
    this.sendCredit += increment;
    if (this.sendCredit > MAX_CREDIT) throw new MuxProtocolError(`window above 2^31-1 on stream ${this.id}`);
    const waiter = this.creditWaiter;
    this.creditWaiter = undefined;
    waiter?.();
  }

  /** Session: `RESET` arrived; the stream ends with the TunnelError its code means. */
  onRemoteReset(code: number, reason: string): void {
    this.lose(tunnelErrorFromClose(code, reason));
  }

  /** Session: the connection is gone (or the peer said in GOAWAY it never processed this stream). */
  lose(err: TunnelError): void {
    this.resetDone = true;
    if (this.destroyed) return;
    if (!this.answered) {
      // Nobody reads the stream yet: the opener's `accepted` or the listener's request carries the error.
      this.endedBeforeAnswer = err;
      this.rejectAccepted(err);
      this.destroy();
      return;
    }
    this.destroy(err);
  }

  override _read(): void {
    this.returnCredit();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    if (this.resetDone) return callback();
    this.pendingWrite = callback;
    this.writeFrom(chunk, 0);
  }

  override _final(callback: Callback): void {
    if (this.resetDone) return callback();
    this.finSent = true;
    this.pendingWrite = callback;
    if (!this.host.send(encodeFrame(MuxFrameType.DATA, FLAG_FIN, this.id), this.afterSend)) return;
  }

  override _destroy(error: Error | null, callback: Callback): void {
    this.creditWaiter = undefined;
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    if (!this.resetDone && !(this.finSent && this.finReceived)) {
      if (error) {
        const code =
          isTunnelError(error) && error.closeCode !== undefined && isSendableCloseCode(error.closeCode)
            ? error.closeCode
            : TunnelCloseCode.INTERNAL_ERROR;
        this.sendReset(code, isTunnelError(error) ? error.message : 'internal error');
      } else {
        // Ended mid-stream without an error: not a clean end, so the peer must not take it for one.
        this.sendReset(TunnelCloseCode.GOING_AWAY, 'stream aborted');
      }
    }
    if (!this.answered && this.opener) {
      this.rejectAccepted(new TunnelError('TUNNEL_ABORTED', 'stream closed before it was accepted', false));
    }
    this.host.forget(this);
    pending?.();
    callback(error);
  }

  /** Sends `chunk` from `offset` in frames of at most 64 KiB and the credit held, waiting for credit as needed. */
  private writeFrom(chunk: Buffer, offset: number): void {
    while (offset < chunk.length) {
      if (this.resetDone || this.destroyed) return;
      const size = Math.min(chunk.length - offset, this.sendCredit, MUX_MAX_PAYLOAD_BYTES);
      if (size === 0) {
        this.creditWaiter = () => this.writeFrom(chunk, offset);
        return;
      }
      const piece = chunk.subarray(offset, offset + size);
      offset += size;
      this.sendCredit -= size;
      const last = offset === chunk.length;
      if (
        !this.host.send(encodeFrame(MuxFrameType.DATA, 0, this.id, piece), last ? this.afterSend : undefined)
      )
        return;
    }
    if (chunk.length === 0) this.afterSend();
  }

  private readonly afterSend = (err?: Error | null): void => {
    // A failed send means the connection is gone; the session resets the stream.
    if (err) return;
    const callback = this.pendingWrite;
    this.pendingWrite = undefined;
    callback?.();
  };

  /** Grants the peer credit for the bytes our reader took since the last grant, a quarter window at a time. */
  private returnCredit(): void {
    if (this.finReceived || this.resetDone || this.destroyed) return;
    const due = this.receivedTotal - this.readableLength - this.creditedTotal;
    if (due < CREDIT_THRESHOLD) return;
    this.creditedTotal += due;
    this.receiveRemaining += due;
    this.host.send(encodeWindow(this.id, due));
  }

  private sendReset(code: number, reason: string): void {
    if (this.resetDone) return;
    this.resetDone = true;
    this.host.send(encodeReset(this.id, code, reason));
  }
}
