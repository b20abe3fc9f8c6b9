import WebSocket from 'ws';
import { MUX_MAX_PAYLOAD_BYTES } from './frame';

/**
 * The send side of a mux connection (docs/tunnel-protocol.md, "Multiplexed streams", "Sending"): frames queued in
 * one event-loop iteration leave as one WebSocket message, so a burst of streams costs one TLS record and one relay
 * message instead of one each; streams with data take turns, at most {@link MUX_QUANTUM_BYTES} each per turn, so
 * a bulk stream cannot fill the connection ahead of an interactive one; at most one message is in flight (ws has
 * not flushed it to the socket yet), so what waits, waits here where the turns are taken.
 */

/** Payload one stream puts in a message per turn (HTTP/2's default frame size): the interleaving grain. */
export const MUX_QUANTUM_BYTES = 16 * 1024;
/** A message takes stream data until it holds this much (one socket read's worth, as a classic tunnel's frame). */
export const MUX_BATCH_BYTES = 64 * 1024;
/** Control frames a message takes at most; with the data bound it stays far below MAX_RELAY_MESSAGE_BYTES. */
const MUX_BATCH_CONTROL_BYTES = 128 * 1024;

type Done = () => void;

/** A message being built: frame parts in order and the writes they complete. */
export class MuxBatch {
  readonly parts: Buffer[] = [];
  bytes = 0;
  readonly done: Done[] = [];

  /** Appends a frame (or a frame's header and payload as two parts). */
  add(part: Buffer): void {
    this.parts.push(part);
    this.bytes += part.length;
  }
}

/** A stream as the writer sees it. */
export interface MuxWriterSource {
  /** True while the source sits in the writer's turn queue. */
  queued: boolean;
  /** Adds its next frame (at most `quantum` payload bytes) to `batch`; returns whether it has more to send now. */
  pull(batch: MuxBatch, quantum: number): boolean;
}

const SEND_BINARY = Object.freeze({ binary: true });

/** Frames out of one WebSocket, coalesced per turn and interleaved per stream (see the file comment). */
export class MuxWriter {
  private control: Buffer[] = [];
  private ready: MuxWriterSource[] = [];
  private readyHead = 0;
  private inFlight = false;
  private timer: NodeJS.Immediate | undefined;
  private building = false;

  constructor(private readonly ws: WebSocket) {}

  /** Queues a control frame (OPEN, ACCEPT, WINDOW, RESET, PING, GOAWAY): it goes ahead of stream data. */
  sendControl(frame: Buffer): void {
    this.control.push(frame);
    this.schedule();
  }

  /** A stream has data (or its FIN) to send and credit for it: it joins the turns. */
  wake(source: MuxWriterSource): void {
    if (source.queued) return;
    source.queued = true;
    this.ready.push(source);
    this.schedule();
  }

  /** Sends everything queued now, whatever is in flight (before a close frame, which must come after them). */
  flushAll(): void {
    this.cancelTurn();
    while (this.ws.readyState === WebSocket.OPEN && this.pending()) this.sendBatch();
  }

  /** Drops everything queued (the connection is gone). */
  clear(): void {
    this.cancelTurn();
    this.control = [];
    for (let i = this.readyHead; i < this.ready.length; i++) this.ready[i]!.queued = false;
    this.ready = [];
    this.readyHead = 0;
  }

  private cancelTurn(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
  }

  private pending(): boolean {
    return this.control.length > 0 || this.readyHead < this.ready.length;
  }

  private schedule(): void {
    // Coalesce what this turn queues: setImmediate runs after every I/O callback of this loop iteration, so a
    // target's data and its end (two callbacks) leave as one frame with FIN, and many clients' frames as one
    // message. While a message is in flight its completion sends the next.
    if (this.timer || this.inFlight || this.building) return;
    this.timer = setImmediate(this.onTurn);
  }

  private readonly onTurn = (): void => {
    this.timer = undefined;
    if (!this.inFlight && this.pending()) this.sendBatch();
  };

  private readonly onSent = (err?: Error | null): void => {
    this.inFlight = false;
    // A failed send means the WebSocket is gone: its close resets every stream.
    if (err || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.pending()) this.sendBatch();
  };

  private sendBatch(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return this.clear();
    const batch = new MuxBatch();
    this.building = true;
    try {
      this.fill(batch);
    } finally {
      this.building = false;
    }
    if (batch.parts.length === 0) return;
    this.inFlight = true;
    const message = batch.parts.length === 1 ? batch.parts[0]! : Buffer.concat(batch.parts, batch.bytes);
    this.ws.send(message, SEND_BINARY, this.onSent);
    // The writes whose last bytes are in this message complete now: their streams may queue the next chunk
    // (taken when this message is flushed), which keeps the pipe full without holding more than one chunk each.
    for (const done of batch.done) done();
  }

  private fill(batch: MuxBatch): void {
    let taken = 0;
    while (taken < this.control.length) {
      const frame = this.control[taken]!;
      if (batch.bytes > 0 && batch.bytes + frame.length > MUX_BATCH_CONTROL_BYTES) break;
      batch.add(frame);
      taken++;
    }
    this.control = taken === this.control.length ? [] : this.control.slice(taken);
    // Round robin: one turn per stream, a stream with more goes to the back of the queue. A turn is the message's
    // room shared by the streams waiting, never less than the quantum: one bulk stream alone still sends whole
    // 64 KiB frames (one write to its target at the far end, not four).
    while (this.readyHead < this.ready.length && batch.bytes < MUX_BATCH_BYTES) {
      const source = this.ready[this.readyHead]!;
      const share = Math.floor((MUX_BATCH_BYTES - batch.bytes) / (this.ready.length - this.readyHead));
      this.readyHead++;
      source.queued = false;
      if (source.pull(batch, Math.min(MUX_MAX_PAYLOAD_BYTES, Math.max(MUX_QUANTUM_BYTES, share)))) {
        source.queued = true;
        this.ready.push(source);
      }
    }
    if (this.readyHead === this.ready.length) {
      this.ready = [];
      this.readyHead = 0;
    } else if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }
}
