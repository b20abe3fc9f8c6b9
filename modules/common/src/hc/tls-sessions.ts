import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { Socket } from 'node:net';

/** Counts of finished TLS handshakes of one cache: how many were full and how many resumed a session. */
export interface TlsSessionStats {
  readonly full: number;
  readonly resumed: number;
}

/**
 * TLS sessions per relay host, so a cold relay connection resumes (one round trip, no certificate exchange)
 * instead of paying a full handshake. Keyed by host, port, SNI name and trust store: a resumed session skips
 * certificate verification, so a session must only be offered where the same trust decided the first handshake.
 */
export class TlsSessionCache {
  private readonly sessions = new Map<string, Buffer>();
  // One SecureContext per trust store: building one parses every CA certificate (~3 ms of CPU), which a busy
  // gateway would otherwise pay on every relay connection.
  private readonly contexts = new Map<string, tls.SecureContext>();
  private fullCount = 0;
  private resumedCount = 0;

  /** @param maxEntries bound on hosts remembered (oldest forgotten first). */
  constructor(private readonly maxEntries = 256) {}

  /** Handshakes finished through this cache so far. */
  stats(): TlsSessionStats {
    return { full: this.fullCount, resumed: this.resumedCount };
  }

  /** Forgets every session and trust context (e.g. after a trust change). */
  clear(): void {
    this.sessions.clear();
    this.contexts.clear();
  }

  /**
   * A `createConnection` for `ws`: does what ws's own TLS connect does, offering the cached session of the host
   * and remembering each new session (TLS 1.3 tickets arrive after the handshake, as 'session' events).
   */
  readonly connect = (options: tls.ConnectionOptions & { host?: string; path?: string }): Socket => {
    const servername = options.servername ?? (options.host && !isIP(options.host) ? options.host : '');
    const trust = trustKey(options.ca);
    const key = `${options.host ?? ''}|${String(options.port ?? 443)}|${servername}|${trust}`;
    const session = this.sessions.get(key);
    const secureContext =
      options.secureContext ?? (options.ca === undefined ? undefined : this.contextFor(trust, options.ca));
    const socket = tls.connect({
      ...options,
      path: undefined,
      servername,
      ...(secureContext && { secureContext }),
      ...(session && { session }),
    });
    socket.on('session', (next: Buffer) => {
      this.sessions.delete(key);
      this.sessions.set(key, next);
      if (this.sessions.size > this.maxEntries) {
        const oldest = this.sessions.keys().next().value;
        if (oldest !== undefined) this.sessions.delete(oldest);
      }
    });
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) this.resumedCount += 1;
      else this.fullCount += 1;
    });
    return socket;
  };

  private contextFor(trust: string, ca: NonNullable<tls.ConnectionOptions['ca']>): tls.SecureContext {
    let context = this.contexts.get(trust);
    if (!context) {
      // Trust stores are few (the system's, or one extra CA per namespace): no bound needed beyond the sessions'.
      if (this.contexts.size >= this.maxEntries) this.contexts.clear();
      context = tls.createSecureContext({ ca });
      this.contexts.set(trust, context);
    }
    return context;
  }
}

function trustKey(ca: unknown): string {
  return ca === undefined
    ? 'system'
    : createHash('sha256')
        .update(Array.isArray(ca) ? ca.map(String).join('\n') : String(ca))
        .digest('hex');
}

/** The process-wide cache every relay connection uses unless told otherwise. */
export const relayTlsSessions = new TlsSessionCache();
