// Raw WebSocket frames for tests and chaos cases that play a hostile peer: one binary frame of any announced
// length, written straight on the socket under a ws WebSocket (ws itself refuses to send such a frame).
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * Header of one binary frame of `length` bytes with FIN set. A client's frame must be masked: it gets the all-zero
 * masking key, which leaves the payload as it is.
 */
function binaryFrameHeader(length: number, masked: boolean): Buffer {
  const header = Buffer.alloc(masked ? 14 : 10);
  header[0] = 0x82;
  header[1] = (masked ? 0x80 : 0) | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** The TCP (or TLS) socket under a ws WebSocket. */
function rawSocketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/**
 * Writes one frame of `length` bytes on the raw socket under `ws`, in 64 KiB pieces with backpressure, until it is
 * all written or the socket stops taking bytes; resolves with how many payload bytes were handed to the socket.
 */
export async function pushFrame(ws: WebSocket, length: number, masked: boolean): Promise<number> {
  const socket = rawSocketOf(ws);
  const piece = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  socket.write(binaryFrameHeader(length, masked));
  while (written < length && socket.writable && !socket.destroyed) {
    const n = Math.min(piece.length, length - written);
    written += n;
    if (!socket.write(n === piece.length ? piece : piece.subarray(0, n))) {
      // Either the peer reads on, or it closed the connection: both end the wait (and both listeners go, or
      // every wait would leave one behind).
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
  }
  return written;
}
