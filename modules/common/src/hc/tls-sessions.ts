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
  private fullCount = 0;
  private resumedCount = 0;

  /** @param maxEntries bound on hosts remembered (oldest forgotten first). */
  constructor(private readonly maxEntries = 256) {}

  /** Handshakes finished through this cache so far. */
  stats(): TlsSessionStats {
    return { full: this.fullCount, resumed: this.resumedCount };
  }

  /** Forgets every session (e.g. after a trust change). */
  clear(): void {
    this.sessions.clear();
  }

  /**
   * A `createConnection` for `ws`: does what ws's own TLS connect does, offering the cached session of the host
   * and remembering each new session (TLS 1.3 tickets arrive after the handshake, as 'session' events).
   */
  readonly connect = (options: tls.ConnectionOptions & { host?: string; path?: string }): Socket => {
    const servername = options.servername ?? (options.host && !isIP(options.host) ? options.host : '');
    const key = sessionKey(options.host ?? '', options.port, servername, options.ca);
    const session = this.sessions.get(key);
    const socket = tls.connect({
      ...options,
      path: undefined,
      servername,
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
}

function sessionKey(host: string, port: unknown, servername: string, ca: unknown): string {
  const trust =
    ca === undefined
      ? 'system'
      : createHash('sha256')
          .update(Array.isArray(ca) ? ca.map(String).join('\n') : String(ca))
          .digest('hex');
  return `${host}|${String(port ?? 443)}|${servername}|${trust}`;
}

/** The process-wide cache every relay connection uses unless told otherwise. */
export const relayTlsSessions = new TlsSessionCache();
