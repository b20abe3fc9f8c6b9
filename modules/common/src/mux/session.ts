import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  closeReason,
  isCleanClose,
  isSendableCloseCode,
  TunnelCloseCode,
  tunnelErrorFromClose,
} from '../tunnel/close-codes';
import { TunnelError } from '../tunnel/errors';
import {
  decodeFrames,
  encodeFrame,
  encodeGoAway,
  encodeReset,
  FLAG_ACK,
  FLAG_FIN,
  goAwayOf,
  MUX_MAX_STREAM_ID,
  MuxFrameType,
  MuxProtocolError,
  resetOf,
  windowIncrement,
  type MuxFrame,
} from './frame';
import { decodeOpenMeta, encodeOpenMeta, type MuxOpenMeta } from './open-meta';
import { MuxStream, type MuxStreamHost } from './stream';
import { MuxWriter } from './writer';

/** Options for {@link MuxSession}. */
export interface MuxSessionOptions {
  /** `opener`: the gateway, which opens streams; `acceptor`: the forwarder, which serves them. */
  readonly role: 'opener' | 'acceptor';
  /** Streams open at once: the listener's own bound (acceptor) or what the listener announced (opener). */
  readonly maxStreams: number;
  /** Opener: send `PING` this often; no answer by the next one ends the connection. 0 or absent: no pings. */
  readonly pingIntervalMs?: number;
}

/** Events of {@link MuxSession}. */
export interface MuxSessionEvents {
  /** Acceptor: the gateway opened a stream; answer it with `accept()` or `refuse()`. */
  stream: [stream: MuxStream];
  /** The peer will accept no more streams on this connection (it drains, or the connection errs). */
  goaway: [code: number, reason: string];
  /** A stream ended; the session has room for another. */
  streamClosed: [stream: MuxStream];
  /** The connection closed; `error` is set when it did not end cleanly (every open stream got it too). */
  close: [error: TunnelError | undefined];
}

/** How long a connection we abort waits for the peer's close answer before dropping it (as RelayDuplex). */
const ABORT_CLOSE_GRACE_MS = 500;

/**
 * Many streams over one relay WebSocket (docs/tunnel-protocol.md, "Multiplexed streams"): frames in, streams out.
 * A frame that breaks the framing ends the connection with GOAWAY 1002 and resets every stream with
 * `TUNNEL_PROTOCOL`; a lost connection resets every stream with the close's TunnelError. GOAWAY drains: no new
 * streams, the WebSocket closes (1000) once the last stream ended.
 */
export class MuxSession extends EventEmitter<MuxSessionEvents> implements MuxStreamHost {
  private readonly streams = new Map<number, MuxStream>();
  private nextStreamId = 1;
  /** Highest id the gateway opened (acceptor) — ids at or below it that are unknown belong to ended streams. */
  private lastPeerStreamId = 0;
  private localGoAway = false;
  private remoteGoAway = false;
  private closed = false;
  private closeError: TunnelError | undefined;
  private wsError: Error | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingOutstanding = false;
  private pingCounter = 0n;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly writer: MuxWriter;
  /** When the session last had no stream (epoch ms), for idle recycling; undefined while streams are open. */
  idleSinceMs: number | undefined = Date.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly options: MuxSessionOptions,
  ) {
    super();
    this.writer = new MuxWriter(ws);
    ws.binaryType = 'nodebuffer';
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    if (options.pingIntervalMs) {
      this.pingTimer = setInterval(this.onPingTimer, options.pingIntervalMs);
      this.pingTimer.unref();
    }
    if (ws.readyState === WebSocket.CLOSED) process.nextTick(() => this.onClose(1006, Buffer.alloc(0)));
  }

  /** Streams open now. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** The stream bound of this connection. */
  get maxStreams(): number {
    return this.options.maxStreams;
  }

  /** True while a new stream may be opened here (open, not draining, below the stream bound). */
  get canOpen(): boolean {
    return (
      !this.closed &&
      !this.localGoAway &&
      !this.remoteGoAway &&
      this.ws.readyState === WebSocket.OPEN &&
      this.streams.size < this.options.maxStreams &&
      this.nextStreamId <= MUX_MAX_STREAM_ID
    );
  }

  /** True once either end sent GOAWAY or the WebSocket closed: the connection takes no new stream, ever. */
  get isDraining(): boolean {
    return this.closed || this.localGoAway || this.remoteGoAway || this.nextStreamId > MUX_MAX_STREAM_ID;
  }

  /** True once the WebSocket closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Opener: opens a stream to `meta.port`; await `stream.accepted` for the listener's answer. Throws when the
   * session cannot take one (check `canOpen`) or the metadata cannot travel (a header outside the four, > 4 KiB).
   * `payload` is `encodeOpenMeta(meta)` when the caller has it already.
   */
  openStream(meta: MuxOpenMeta, payload: Buffer | undefined = encodeOpenMeta(meta)): MuxStream {
    if (this.options.role !== 'opener') throw new Error('only the opener opens streams');
    if (!this.canOpen)
      throw new TunnelError('TUNNEL_RELAY_LOST', 'mux connection cannot take a stream', true);
    if (!payload) throw new TypeError('stream metadata cannot travel in an OPEN frame');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = this.track(new MuxStream(id, meta, this, true));
    this.send(encodeFrame(MuxFrameType.OPEN, 0, id, payload));
    // Ids run out after about a billion streams: drain this connection, a new one takes over.
    if (this.nextStreamId > MUX_MAX_STREAM_ID) this.goAway(TunnelCloseCode.NORMAL, 'stream ids used up');
    return stream;
  }

  /** Drains: tells the peer no new streams are taken, and closes (1000) once the last stream ended. */
  goAway(code: number = TunnelCloseCode.NORMAL, reason = 'going away'): void {
    if (this.localGoAway || this.closed) return;
    this.localGoAway = true;
    this.send(encodeGoAway(this.lastPeerStreamId, code, reason));
    this.closeIfDrained();
  }

  /** Ends the connection now: every stream gets `error` (its close code goes to the peer on the WebSocket). */
  abort(error: TunnelError): void {
    if (this.closed) return;
    this.closeError ??= error;
    for (const stream of [...this.streams.values()]) stream.lose(error);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      const code =
        error.closeCode !== undefined && isSendableCloseCode(error.closeCode)
          ? error.closeCode
          : TunnelCloseCode.INTERNAL_ERROR;
      // What was queued (the GOAWAY of a protocol error) goes before the close frame.
      this.writer.flushAll();
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, closeReason(error.message));
      else this.ws.terminate();
    }
    if (this.graceTimer === undefined && !this.closed) {
      this.graceTimer = setTimeout(() => this.ws.terminate(), ABORT_CLOSE_GRACE_MS);
      this.graceTimer.unref();
    }
  }

  /** MuxStreamHost: queues a control frame (it leaves with this turn's message); false when the WebSocket is not open. */
  send(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.writer.sendControl(frame);
    return true;
  }

  /** MuxStreamHost: a stream has bytes (or its FIN) to send. */
  wake(stream: MuxStream): void {
    if (this.ws.readyState === WebSocket.OPEN) this.writer.wake(stream);
  }

  /** MuxStreamHost: a stream released everything. */
  forget(stream: MuxStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (this.streams.size === 0) this.idleSinceMs = Date.now();
    this.emit('streamClosed', stream);
    this.closeIfDrained();
  }

  private track(stream: MuxStream): MuxStream {
    this.streams.set(stream.id, stream);
    this.idleSinceMs = undefined;
    return stream;
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    // Text frames are room for later controls (as with half-close); mux frames are binary.
    if (!isBinary || this.closed) return;
    try {
      for (const frame of decodeFrames(data as Buffer)) this.handle(frame);
    } catch (err) {
      if (err instanceof MuxProtocolError) return this.protocolError(err.message);
      // A bug here must cost this connection's streams, never the process (this runs in ws's 'message' event).
      this.abort(
        new TunnelError('TUNNEL_REMOTE_ERROR', 'mux: internal error', true, TunnelCloseCode.INTERNAL_ERROR, {
          cause: err,
        }),
      );
    }
  };

  private handle(frame: MuxFrame): void {
    const { type, streamId } = frame;
    if (type === MuxFrameType.PING) return this.onPing(frame);
    if (type === MuxFrameType.GOAWAY) return this.onGoAway(frame);
    if (type === MuxFrameType.OPEN) return this.onOpen(frame);
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (this.endedStream(streamId)) return; // in flight when the stream ended
      throw new MuxProtocolError(`frame for stream ${streamId}, never opened`);
    }
    switch (type) {
      case MuxFrameType.DATA:
        return stream.onData(frame.payload, (frame.flags & FLAG_FIN) !== 0);
      case MuxFrameType.ACCEPT:
        return stream.onAccept();
      case MuxFrameType.WINDOW:
        return stream.onWindow(windowIncrement(frame));
      case MuxFrameType.RESET: {
        const { code, reason } = resetOf(frame);
        return stream.onRemoteReset(code, reason);
      }
    }
  }

  private endedStream(id: number): boolean {
    if (id % 2 === 0) return false;
    return this.options.role === 'opener' ? id < this.nextStreamId : id <= this.lastPeerStreamId;
  }

  private onOpen(frame: MuxFrame): void {
    const id = frame.streamId;
    if (this.options.role !== 'acceptor') throw new MuxProtocolError('OPEN from the listener');
    if (id % 2 === 0) throw new MuxProtocolError(`OPEN with even stream id ${id}`);
    if (id <= this.lastPeerStreamId) throw new MuxProtocolError(`OPEN reuses stream id ${id}`);
    this.lastPeerStreamId = id;
    if (this.localGoAway) {
      this.send(encodeReset(id, TunnelCloseCode.GOING_AWAY, 'going away'));
      return;
    }
    if (this.streams.size >= this.options.maxStreams) {
      this.send(encodeReset(id, TunnelCloseCode.SERVICE_BUSY, 'stream limit'));
      return;
    }
    const meta = decodeOpenMeta(frame.payload);
    if ('problem' in meta) throw new MuxProtocolError(meta.problem);
    this.emit('stream', this.track(new MuxStream(id, meta, this, false)));
  }

  private onPing(frame: MuxFrame): void {
    if ((frame.flags & FLAG_ACK) !== 0) {
      this.pingOutstanding = false;
      return;
    }
    this.send(encodeFrame(MuxFrameType.PING, FLAG_ACK, 0, frame.payload));
  }

  private onGoAway(frame: MuxFrame): void {
    const { lastStreamId, code, reason } = goAwayOf(frame);
    if (this.remoteGoAway) return;
    this.remoteGoAway = true;
    if (this.options.role === 'opener') {
      // Streams above the last id were never processed: their clients may try again elsewhere (HTTP/2 §6.8).
      const error = new TunnelError(
        'TUNNEL_REMOTE_ERROR',
        'listener went away before the stream',
        true,
        1001,
      );
      for (const stream of [...this.streams.values()]) if (stream.id > lastStreamId) stream.lose(error);
    }
    this.emit('goaway', code, reason);
    this.closeIfDrained();
  }

  private readonly onPingTimer = (): void => {
    if (this.closed) return;
    if (this.pingOutstanding) {
      this.abort(new TunnelError('TUNNEL_RELAY_LOST', 'mux connection did not answer a ping', true, 1001));
      return;
    }
    this.pingOutstanding = true;
    const payload = Buffer.allocUnsafe(8);
    payload.writeBigUInt64BE(this.pingCounter++, 0);
    this.send(encodeFrame(MuxFrameType.PING, 0, 0, payload));
  };

  private protocolError(reason: string): void {
    if (this.closed) return;
    this.send(encodeGoAway(this.lastPeerStreamId, TunnelCloseCode.PROTOCOL_ERROR, reason));
    this.abort(new TunnelError('TUNNEL_PROTOCOL', `mux: ${reason}`, false, TunnelCloseCode.PROTOCOL_ERROR));
  }

  private closeIfDrained(): void {
    if (
      (this.localGoAway || this.remoteGoAway) &&
      this.streams.size === 0 &&
      this.ws.readyState === WebSocket.OPEN
    ) {
      // The last frames (GOAWAY, the last FIN or RESET) go before the close frame.
      this.writer.flushAll();
      this.ws.close(TunnelCloseCode.NORMAL);
    }
  }

  private readonly onError = (err: Error): void => {
    // ws always follows 'error' with 'close'.
    this.wsError ??= err;
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.graceTimer);
    this.writer.clear();
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    const text = reason.toString('utf8');
    const drained = (this.localGoAway || this.remoteGoAway) && this.streams.size === 0;
    let error = this.closeError;
    if (!error && !(drained && (isCleanClose(code) || code === 1006))) {
      error = isCleanClose(code)
        ? new TunnelError('TUNNEL_CLOSED_EARLY', 'mux connection closed with the stream open', true, code)
        : tunnelErrorFromClose(code, text, this.wsError);
    }
    if (error) for (const stream of [...this.streams.values()]) stream.lose(error);
    this.streams.clear();
    // An idle connection closed cleanly by either side is no failure.
    const reported = this.closeError ?? (isCleanClose(code) && !this.wsError ? undefined : error);
    this.emit('close', reported);
  };
}
