/**
 * One TLS front of the sandbox relay, run as a child process: the relay's primary process accepts TCP
 * connections and passes each socket here (IPC handle passing); this process does the TLS handshake and the
 * record-layer crypto, and pipes the plaintext to the relay core over a local socket, prefixed with a PROXY v1
 * line naming the client. The HC protocol itself (HTTP upgrade, WebSocket frames, pairing) stays in the core.
 */
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { firstHeadSplitter } from './head-boundary';
import { encodeProxyHeader } from './proxy-header';

/** The configuration message the primary sends first. */
export interface FrontConfigMessage {
  readonly type: 'config';
  readonly certPem: string;
  readonly keyPem: string;
  /** Shared session-ticket keys (48 bytes, base64): a ticket from one front resumes on any other. */
  readonly ticketKeys: string;
  /** The core's local socket path. */
  readonly corePath: string;
}

/** Sent with a socket handle: serve this connection. */
export interface FrontSocketMessage {
  readonly type: 'socket';
}

/** What the front tells its primary. */
export type FrontReport = { readonly type: 'ready' };

/** Marker the primary imports, so builds that follow imports (the bench) compile this entry too. */
export const TLS_FRONT_ENTRY_NAME = 'front-main';

function serve(config: FrontConfigMessage): (socket: Socket) => void {
  const server = createServer(
    { cert: config.certPem, key: config.keyPem, ticketKeys: Buffer.from(config.ticketKeys, 'base64') },
    (tls: TLSSocket) => {
      const core = connect(config.corePath);
      tls.setNoDelay(true);
      core.write(
        encodeProxyHeader(
          { address: (tls.remoteAddress ?? '').replace(/^::ffff:/, ''), port: tls.remotePort ?? 0 },
          { address: (tls.localAddress ?? '').replace(/^::ffff:/, ''), port: tls.localPort ?? 0 },
        ),
      );
      // Either side's end or loss ends the other: the core's close is the client's close, and back.
      tls.pipe(core);
      // core → client by hand instead of pipe: the response head must leave as a write of its own.
      const split = firstHeadSplitter();
      let holding = false;
      core.on('data', (chunk: Buffer) => {
        const [first, rest] = split(chunk);
        if (rest === undefined) {
          if (!tls.write(first!)) core.pause();
          return;
        }
        // The rest waits until the head has gone out, so no later flush can join the two into one record.
        holding = true;
        core.pause();
        tls.write(first!, () => {
          holding = false;
          if (tls.write(rest)) core.resume();
        });
      });
      tls.on('drain', () => {
        if (!holding) core.resume();
      });
      core.on('end', () => tls.end());
      tls.on('error', () => core.destroy());
      core.on('error', () => tls.destroy());
      tls.on('close', () => core.destroy());
      core.on('close', () => tls.destroy());
    },
  );
  server.on('tlsClientError', () => undefined);
  return (socket) => {
    // Handed over paused (pauseOnConnect): no byte was read in the primary.
    socket.on('error', () => socket.destroy());
    server.emit('connection', socket);
  };
}

if (require.main === module) {
  let accept: ((socket: Socket) => void) | undefined;
  process.on('message', (message: FrontConfigMessage | FrontSocketMessage, handle?: unknown) => {
    if (message.type === 'config') {
      accept = serve(message);
      process.send?.({ type: 'ready' } satisfies FrontReport);
    } else if (message.type === 'socket' && handle && accept) accept(handle as Socket);
    else if (handle) (handle as Socket).destroy();
  });
  // The primary is gone (stopped or killed): nothing more can arrive; the connections die with this process.
  process.on('disconnect', () => process.exit(0));
}
