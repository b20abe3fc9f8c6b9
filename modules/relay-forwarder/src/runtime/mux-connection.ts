import type WebSocket from 'ws';
import type { AcceptRequest } from '../../../common/src/hc/accept-message';
import { startMuxAcceptor } from '../../../common/src/mux/handshake';
import { DEFAULT_MUX_MAX_STREAMS } from '../../../common/src/mux/negotiate';
import type { MuxSession } from '../../../common/src/mux/session';
import type { MuxStream } from '../../../common/src/mux/stream';
import { TunnelCloseCode, tunnelErrorForCode } from '../../../common/src/tunnel/close-codes';
import { isTunnelError } from '../../../common/src/tunnel/errors';
import { closeCodeForTargetError } from '../../../common/src/tunnel/target-errors';
import { withWarmMeta } from '../../../common/src/tunnel/warm-meta';
import { describeClient } from './request-client';
import { serveTunnelRequest, type ServedRequest } from './serve-request';
import type { TunnelSessionHost } from './session-host';

/**
 * Serves a relay connection whose gateway offered multiplexed streams (`x-hrf-mux: 1`, docs/tunnel-protocol.md):
 * accepts multiplexing, then serves every stream exactly like a classic tunnel (service lookup, limits, refusal
 * codes, target dial, PROXY header, client address, counters, events). The tunnel id of a stream is the relay
 * connection's tracking id and the stream id. Resolves once the connection closed and every stream was served.
 * A hybrid connection that shuts down sends GOAWAY: live streams run on until they end or are drained.
 */
export async function runMuxConnection(
  ws: WebSocket,
  request: AcceptRequest,
  host: TunnelSessionHost,
  /** Sees the session once it runs (the runtime reports open connections and their streams). */
  onSession?: (session: MuxSession) => void,
): Promise<void> {
  host.countMux?.();
  const session = startMuxAcceptor(ws, host.muxMaxStreams ?? DEFAULT_MUX_MAX_STREAMS);
  onSession?.(session);
  const log = host.log.child({ relayConnectionId: request.id, mux: true });
  const served = new Set<Promise<void>>();
  const onShutdown = (): void => session.goAway(TunnelCloseCode.GOING_AWAY, 'going away');
  host.signal.addEventListener('abort', onShutdown, { once: true });
  if (host.signal.aborted) onShutdown();
  session.on('stream', (stream) => {
    const acceptedAtMs = Date.now();
    const tunnelId = `${request.id}/${stream.id}`;
    // Per-client headers come with the OPEN frame, with the same parsing and trust as connect headers.
    const client = describeClient(
      withWarmMeta(request.connectHeaders, stream.meta.headers),
      acceptedAtMs,
      host.log,
      tunnelId,
    );
    const done = serveTunnelRequest(requestOf(stream), tunnelId, client, host).finally(() =>
      served.delete(done),
    );
    served.add(done);
  });
  const [error] = await new Promise<[Error | undefined]>((resolve) =>
    session.once('close', (err) => resolve([err])),
  );
  host.signal.removeEventListener('abort', onShutdown);
  if (error)
    log.info(
      { code: isTunnelError(error) ? error.code : 'unknown' },
      'multiplexed connection ended abnormally',
    );
  else log.debug({}, 'multiplexed connection closed');
  await Promise.all(served);
}

/** A stream seen as a tunnel request: confirm sends ACCEPT, fail sends RESET with the refusal's close code. */
function requestOf(stream: MuxStream): ServedRequest {
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  stream.once('close', onClose);
  return {
    portName: stream.meta.port,
    signal: gone.signal,
    confirm() {
      stream.off('close', onClose);
      stream.accept();
      return stream;
    },
    fail(cause: unknown, reason?: string) {
      stream.off('close', onClose);
      const code = typeof cause === 'number' ? cause : closeCodeForTargetError(cause);
      // Our own TunnelErrors carry reasons we wrote (no internal addresses); other errors get the default text.
      const error = tunnelErrorForCode(code, reason ?? (isTunnelError(cause) ? cause.message : undefined));
      stream.refuse(code, error.message);
    },
  };
}
