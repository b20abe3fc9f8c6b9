import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TunnelCloseCode } from './close-codes';
import { isTunnelError, TunnelError } from './errors';

/** Options for {@link pumpTunnel}. */
export interface PumpOptions {
  /** Close the tunnel (code 4408) when no byte moves either way for this long; 0 or absent disables it. */
  readonly idleTimeoutMs?: number;
  /** Aborts the tunnel: the peer gets close code 1001 and the TCP socket is destroyed. */
  readonly signal?: AbortSignal;
}

/** How a pumped tunnel ended. */
export interface TunnelOutcome {
  /** True when both directions ended cleanly. */
  readonly ok: boolean;
  /** Why it did not end cleanly (first failure seen). */
  readonly error?: TunnelError;
  /** Bytes read from the TCP socket and written to the relay. */
  readonly tcpToRelayBytes: number;
  /** Bytes read from the relay and written to the TCP socket. */
  readonly relayToTcpBytes: number;
}

/** A running pump: live byte counters, a completion promise that never rejects, and a way to abort. */
export interface TunnelPump {
  readonly tcpToRelayBytes: number;
  readonly relayToTcpBytes: number;
  /** Settles once the socket and the tunnel are both closed (no handle left open). */
  readonly completion: Promise<TunnelOutcome>;
  /** Ends the tunnel now: the peer gets close code 1001 (going away), the socket is destroyed. */
  abort(reason?: string): void;
}

/** Resets a TCP socket so its peer sees ECONNRESET, as the far end did; other sockets (Unix paths) are destroyed. */
function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * True when an end of stream on `socket` was really a reset. Node 20's libuv (1.46) reports a RST that arrives with
 * POLLHUP right after a partial read as a clean EOF (libuv#4997). While our side has not ended, a real FIN leaves
 * the connection open (CLOSE_WAIT) but a reset closes it, so asking for the peer's address tells them apart; once
 * we have ended too, both close it and we cannot tell (the end is then taken as a FIN).
 */
function endedByReset(socket: Socket): boolean {
  if (socket.writableEnded) return false;
  // Node's handle is the only way to reach getpeername(2) uncached (socket.remoteAddress is cached).
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: object) => number } })._handle;
  if (typeof handle?.getpeername !== 'function') return false;
  return handle.getpeername({}) !== 0;
}

/**
 * Moves bytes both ways between a TCP socket and a tunnel duplex (a {@link RelayDuplex}) with backpressure each
 * way, carrying half-close: TCP end → `duplex.end()` (fin or close), tunnel end → `socket.end()`. A TCP error or
 * abort closes the tunnel with 4410 so the far end resets its socket too; an abnormal tunnel close resets the TCP
 * socket. The socket is switched to `allowHalfOpen` so one ended direction does not end the other.
 */
export function pumpTunnel(socket: Socket, duplex: Duplex, options: PumpOptions = {}): TunnelPump {
  let tcpToRelayBytes = 0;
  let relayToTcpBytes = 0;
  let failure: TunnelError | undefined;
  let socketClosed = socket.closed;
  let duplexClosed = duplex.closed;
  let resolveCompletion!: (outcome: TunnelOutcome) => void;
  const completion = new Promise<TunnelOutcome>((resolve) => (resolveCompletion = resolve));

  socket.allowHalfOpen = true;

  const fail = (err: TunnelError): void => {
    failure ??= err;
    if (!duplex.destroyed) duplex.destroy(err);
  };

  const onSocketData = (chunk: Buffer): void => {
    tcpToRelayBytes += chunk.length;
    if (!duplex.write(chunk)) socket.pause();
  };
  const onDuplexDrain = (): void => {
    socket.resume();
  };
  const onSocketEnd = (): void => {
    if (endedByReset(socket)) {
      // Not a FIN: carrying it on as one would hand the far end a truncated stream that looks complete.
      onSocketError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      socket.destroy();
      return;
    }
    duplex.end();
  };
  const onDuplexData = (chunk: Buffer): void => {
    relayToTcpBytes += chunk.length;
    if (!socket.write(chunk)) duplex.pause();
  };
  const onSocketDrain = (): void => {
    duplex.resume();
  };
  const onDuplexEnd = (): void => {
    socket.end();
  };
  const onSocketError = (err: NodeJS.ErrnoException): void => {
    const code = err.code ?? 'error';
    // The message names only the errno: Node's own text can carry internal addresses.
    fail(
      new TunnelError(
        'TUNNEL_TCP_RESET',
        `tcp connection failed (${code})`,
        false,
        TunnelCloseCode.TCP_RESET,
        { cause: err },
      ),
    );
  };
  const onSocketTimeout = (): void => {
    fail(new TunnelError('TUNNEL_IDLE_TIMEOUT', 'idle timeout', false, TunnelCloseCode.IDLE_TIMEOUT));
    socket.destroy();
  };
  const onSocketClose = (): void => {
    socketClosed = true;
    if (!duplexClosed && !(socket.readableEnded && socket.writableFinished)) {
      fail(
        new TunnelError(
          'TUNNEL_TCP_RESET',
          'tcp connection closed before the tunnel ended',
          false,
          TunnelCloseCode.TCP_RESET,
        ),
      );
    }
    settleIfDone();
  };
  const onDuplexError = (err: Error): void => {
    failure ??= isTunnelError(err)
      ? err
      : new TunnelError('TUNNEL_REMOTE_ERROR', 'tunnel stream failed', true, undefined, { cause: err });
    resetSocket(socket);
  };
  const onDuplexClose = (): void => {
    duplexClosed = true;
    if (!socketClosed) {
      if (failure) {
        resetSocket(socket);
      } else {
        // The tunnel ended cleanly while TCP may still be sending (a peer without half-close closed the WebSocket):
        // deliver what we already have, then close.
        socket.off('data', onSocketData);
        // Usually ended already (the tunnel's own end came first): a second end() only builds an error to drop.
        if (!socket.writableEnded) socket.end();
        if (socket.writableFinished) socket.destroy();
        else socket.once('finish', () => socket.destroy());
      }
    }
    settleIfDone();
  };
  const onAbort = (): void => abort('aborted');

  function abort(reason = 'aborted'): void {
    if (socketClosed && duplexClosed) return;
    fail(new TunnelError('TUNNEL_ABORTED', `tunnel ${reason}`, false, TunnelCloseCode.GOING_AWAY));
    socket.destroy();
  }

  function settleIfDone(): void {
    if (!socketClosed || !duplexClosed) return;
    socket.off('data', onSocketData);
    socket.off('end', onSocketEnd);
    socket.off('drain', onSocketDrain);
    socket.off('error', onSocketError);
    socket.off('timeout', onSocketTimeout);
    socket.off('close', onSocketClose);
    duplex.off('data', onDuplexData);
    duplex.off('end', onDuplexEnd);
    duplex.off('drain', onDuplexDrain);
    duplex.off('error', onDuplexError);
    duplex.off('close', onDuplexClose);
    options.signal?.removeEventListener('abort', onAbort);
    if (options.idleTimeoutMs) socket.setTimeout(0);
    resolveCompletion({ ok: failure === undefined, error: failure, tcpToRelayBytes, relayToTcpBytes });
  }

  socket.on('error', onSocketError);
  socket.on('close', onSocketClose);
  duplex.on('error', onDuplexError);
  duplex.on('close', onDuplexClose);
  socket.on('end', onSocketEnd);
  socket.on('drain', onSocketDrain);
  duplex.on('end', onDuplexEnd);
  duplex.on('drain', onDuplexDrain);
  if (options.idleTimeoutMs) {
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('timeout', onSocketTimeout);
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });

  if (options.signal?.aborted) {
    abort();
  } else if (socket.destroyed) {
    fail(
      new TunnelError(
        'TUNNEL_TCP_RESET',
        'tcp connection closed before the tunnel started',
        false,
        TunnelCloseCode.TCP_RESET,
      ),
    );
  } else if (duplex.destroyed) {
    // The tunnel died before the pump started (its 'error' may already be gone): keep the reason if it has one.
    onDuplexError(
      duplex.errored ??
        new TunnelError('TUNNEL_RELAY_LOST', 'tunnel closed before the pump started', true, undefined),
    );
  }
  // Attach the data listeners last: they switch both streams to flowing mode.
  socket.on('data', onSocketData);
  duplex.on('data', onDuplexData);
  // Node reads a FIN eagerly: on a socket with nothing buffered 'end' may already have fired before the pump
  // started (a client that half-closes without sending a byte while its tunnel opens). Pass such an end on now.
  if (socket.readableEnded && !duplex.writableEnded && !duplex.destroyed) onSocketEnd();
  if (duplex.readableEnded && !socket.writableEnded && !socket.destroyed) onDuplexEnd();
  settleIfDone();

  return {
    get tcpToRelayBytes() {
      return tcpToRelayBytes;
    },
    get relayToTcpBytes() {
      return relayToTcpBytes;
    },
    completion,
    abort,
  };
}
