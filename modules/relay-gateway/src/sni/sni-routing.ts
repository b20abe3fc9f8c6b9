import type { Socket } from 'node:net';
import { parseClientHello } from './client-hello';

/** Where a server name leads: a hybrid connection and the forwarder's service. */
export interface SniTarget {
  readonly hybridConnection: string;
  readonly service: string;
}

/** A route's name table, with defaults applied; names are lower case. */
export interface SniRouting {
  /** Exact names. */
  readonly names: ReadonlyMap<string, SniTarget>;
  /** `*.suffix` entries as [".suffix", target], longest suffix first. */
  readonly wildcards: ReadonlyArray<readonly [string, SniTarget]>;
  /** What a name in neither table (or no name) gets: a reset, or the route's own hybridConnection/service. */
  readonly unknownName: 'refuse' | 'default';
  readonly helloTimeoutMs: number;
  /** The table as written, for the diff. */
  readonly text: string;
}

/** The target for a server name: exact match, else the longest matching wildcard, else `default` or undefined. */
export function pickSniTarget(
  routing: SniRouting,
  serverName: string | undefined,
): SniTarget | 'default' | undefined {
  if (serverName !== undefined) {
    const exact = routing.names.get(serverName);
    if (exact) return exact;
    // `*.example.com` matches any name below example.com (one or more labels), never example.com itself.
    for (const [suffix, target] of routing.wildcards) if (serverName.endsWith(suffix)) return target;
  }
  return routing.unknownName === 'default' ? 'default' : undefined;
}

/** Outcome of {@link peekServerName}. */
export type PeekResult =
  { readonly ok: true; readonly serverName?: string } | { readonly ok: false; readonly message: string };

/**
 * Reads the ClientHello's server name without consuming it: every byte read is put back on the socket, so the
 * tunnel replays the ClientHello and TLS stays end to end. Bounded by CLIENT_HELLO_MAX_BYTES and
 * `timeoutMs`; a connection that ends first, or bytes that are not a ClientHello, fail with the reason.
 */
export function peekServerName(socket: Socket, timeoutMs: number): Promise<PeekResult> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    // Paused mode, as in proxy-intake.ts: without a 'readable' listener the socket is back in its initial state.
    const finish = (result: PeekResult): void => {
      done = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (result.ok && buffered.length > 0) socket.unshift(buffered);
      resolve(result);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!done && (chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const parsed = parseClientHello(buffered);
        if (parsed.status === 'incomplete') continue;
        if (parsed.status === 'invalid') return finish({ ok: false, message: parsed.message });
        return finish({
          ok: true,
          ...(parsed.serverName !== undefined && { serverName: parsed.serverName }),
        });
      }
    };
    const onEnd = (): void =>
      finish({ ok: false, message: 'connection ended before a complete ClientHello' });
    const timer = setTimeout(
      () => finish({ ok: false, message: `no complete ClientHello within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
