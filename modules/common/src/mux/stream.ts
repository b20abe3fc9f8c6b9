import { Duplex } from 'node:stream';
import { isSendableCloseCode, TunnelCloseCode, tunnelErrorFromClose } from '../tunnel/close-codes';
import { isTunnelError, TunnelError } from '../tunnel/errors';
import {
  encodeFrame,
  encodeReset,
  encodeWindow,
  FLAG_FIN,
  MUX_HEADER_BYTES,
  MuxFrameType,
  MuxProtocolError,
} from './frame';
import type { MuxOpenMeta } from './open-meta';
import type { MuxBatch, MuxWriterSource } from './writer';

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
  /** Queues a control frame; false when the connection is gone (the stream is then reset by the session). */
  send(frame: Buffer): boolean;
  /** The stream has data or its FIN to send, and credit for it: the writer gives it a turn. */
  wake(stream: MuxStream): void;
  /** The stream released every resource: the session stops tracking it. */
  forget(stream: MuxStream): void;
}

type Callback = (error?: Error | null) => void;

const noop = (): void => undefined;
const LISTENER_ACCEPTED = Promise.resolve();

/**
 * One multiplexed stream as a byte Duplex (docs/tunnel-protocol.md, "Multiplexed streams"). Writes become `DATA`
 * frames, never beyond the peer's credit: a write waits for `WINDOW` and completes once the session's writer took
 * its last bytes into a message (it takes them in turns with the other streams, one message in flight at a time),
 * so the writer feels both the peer's reader and the shared socket. Received bytes are pushed at once (the window
 * bounds them) and credit goes back only for bytes the reader took. `end()` sends `FIN`; destroying with a
 * TunnelError sends `RESET` with its close code; a `RESET` received destroys the stream with the same TunnelError
 * a classic close frame gives.
 */
export class MuxStream extends Duplex implements MuxWriterSource {
  /**
   * Opener: settles when the listener answered the stream: `ACCEPT`, or rejects with the `RESET`'s TunnelError.
   * Listener: always resolved (it answers with `accept()` or `refuse()`; nothing waits).
   */
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
  /** The chunk being sent, from `outOffset`, and the write it completes. */
  private outChunk: Buffer | undefined;
  private outOffset = 0;
  private outCallback: Callback | undefined;
  /** `_final` waits for the writer to send `FIN`. */
  private finCallback: Callback | undefined;
  /** MuxWriterSource: in the writer's turn queue. */
  queued = false;
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
    if (!opener) {
      // A listener's stream holds no promise of its own (a few hundred bytes per idle stream).
      this.accepted = LISTENER_ACCEPTED;
      this.resolveAccepted = this.rejectAccepted = noop;
      return;
    }
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
    if (this.outChunk) this.host.wake(this);
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
    if (this.resetDone || chunk.length === 0) return callback();
    this.outChunk = chunk;
    this.outOffset = 0;
    this.outCallback = callback;
    if (this.sendCredit > 0) this.host.wake(this);
  }

  override _final(callback: Callback): void {
    // The FIN may have gone out already, on the last DATA frame (see pull).
    if (this.resetDone || this.finSent) return callback();
    this.finCallback = callback;
    this.host.wake(this);
  }

  override _destroy(error: Error | null, callback: Callback): void {
    const pending = [this.outCallback, this.finCallback];
    this.outChunk = this.outCallback = this.finCallback = undefined;
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
    for (const done of pending) done?.();
    callback(error);
  }

  /**
   * MuxWriterSource: adds one `DATA` frame of at most `quantum` bytes and the credit held (or the `FIN`) to the
   * writer's message. When the last bytes of the last write go and `end()` was already called, they carry `FIN`
   * (one frame less per stream). Returns whether more can go now.
   */
  pull(batch: MuxBatch, quantum: number): boolean {
    if (this.resetDone || this.destroyed) return false;
    const chunk = this.outChunk;
    if (chunk) {
      const size = Math.min(chunk.length - this.outOffset, this.sendCredit, quantum);
      if (size === 0) return false; // no credit: WINDOW wakes the stream again
      const start = this.outOffset;
      this.outOffset += size;
      this.sendCredit -= size;
      let flags = 0;
      if (this.outOffset === chunk.length) {
        batch.done.push(this.outCallback!);
        this.outChunk = this.outCallback = undefined;
        if (this.writableEnded && this.writableLength === chunk.length) {
          flags = FLAG_FIN;
          this.finSent = true;
        }
      }
      batch.add(frameHeader(MuxFrameType.DATA, flags, this.id, size));
      batch.add(chunk.subarray(start, start + size));
      return this.outChunk !== undefined && this.sendCredit > 0;
    }
    if (this.finCallback && !this.finSent) {
      this.finSent = true;
      batch.add(frameHeader(MuxFrameType.DATA, FLAG_FIN, this.id, 0));
      batch.done.push(this.finCallback);
      this.finCallback = undefined;
    }
    return false;
  }

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

/** A frame header alone (its payload follows as its own part of the message: no copy until the message is built). */
function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(MUX_HEADER_BYTES);
  header[0] = type;
  header[1] = flags;
  header.writeUInt16BE(0, 2);
  header.writeUInt32BE(streamId, 4);
  header.writeUInt32BE(length, 8);
  return header;
}
