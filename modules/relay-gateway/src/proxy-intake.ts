import type { Socket } from 'node:net';
import { parseProxyHeader, type SocketEndpoint } from '../../common/src/net/proxy-protocol';
import type { AcceptProxyProtocol } from './config/types';

/** Outcome of {@link readProxyIntake}: the client the front announced (none for LOCAL/UNKNOWN), or why it is refused. */
export type ProxyIntakeResult =
  | { readonly ok: true; readonly client?: SocketEndpoint }
  | { readonly ok: false; readonly reason: 'proxy-untrusted' | 'proxy-malformed'; readonly message: string };

/**
 * Reads the PROXY protocol header a trusted front sends first. The source must be in the trusted ranges (checked
 * before a byte is read: anyone else could claim any address); the header must be complete and valid within
 * `headerTimeoutMs`. Bytes after the header are put back on the socket, so the tunnel carries them in order. Never rejects.
 */
export function readProxyIntake(socket: Socket, settings: AcceptProxyProtocol): Promise<ProxyIntakeResult> {
  const source = socket.remoteAddress;
  if (source === undefined || !settings.trustedList.allows(source))
    return Promise.resolve({
      ok: false,
      reason: 'proxy-untrusted',
      message: `source ${source ?? '(gone)'} is not a trusted PROXY protocol sender`,
    });
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    // Paused mode ('readable' + read()): once the listener is gone the socket returns to its initial state, so the
    // pump's later 'data' listener starts the flow and no byte is emitted to nobody in between.
    const finish = (result: ProxyIntakeResult, rest?: Buffer): void => {
      done = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const malformed = (message: string): void => finish({ ok: false, reason: 'proxy-malformed', message });
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!done && (chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.status === 'incomplete') continue;
        if (parsed.status === 'invalid') return malformed(parsed.message);
        const client = parsed.header.source;
        return finish({ ok: true, ...(client && { client }) }, buffered.subarray(parsed.length));
      }
    };
    const onEnd = (): void => malformed('connection ended before a complete PROXY protocol header');
    const timer = setTimeout(
      () => malformed(`no complete PROXY protocol header within ${settings.headerTimeoutMs} ms`),
      settings.headerTimeoutMs,
    );
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
