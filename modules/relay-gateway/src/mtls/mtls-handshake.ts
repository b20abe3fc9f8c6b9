import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { canonicalSerial, type MtlsSettings } from './mtls-config';

/** The verified client certificate: what travels to the forwarder. */
export interface ClientIdentity {
  /** Subject as `CN=…,O=…` (printable ASCII only). */
  readonly subject: string;
  /** Serial, canonical upper-case hex. */
  readonly serial: string;
}

/** Outcome of {@link terminateMtls}: the cleartext socket and the identity, or why the client is refused. */
export type MtlsResult =
  | { readonly ok: true; readonly socket: TLSSocket; readonly identity: ClientIdentity }
  | { readonly ok: false; readonly reason: MtlsRefusal; readonly message: string };

/** Why an mTLS route refused a client (the refusal reason counted and emitted). */
export type MtlsRefusal = 'mtls-handshake-failed' | 'mtls-no-certificate' | 'mtls-untrusted' | 'mtls-revoked';

type Settle = (socket: TLSSocket | undefined, result: MtlsResult) => void;

/**
 * One non-listening TLS server per settings object: handed each admitted socket with `emit('connection')`, the
 * documented way to run Node's server-side handshake (which sets `authorized`) on a socket accepted elsewhere.
 */
class Terminator {
  private readonly server: Server;
  private readonly pending = new Map<string, Settle>();

  constructor(private readonly settings: MtlsSettings) {
    // rejectUnauthorized false: the handshake completes so the refusal can say why (Node would only reset).
    this.server = createServer({
      ...settings.pem,
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: settings.handshakeTimeoutMs,
    });
    this.server.on('secureConnection', (socket: TLSSocket) => this.settle(socket, this.verify(socket)));
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) =>
      this.settle(socket, {
        ok: false,
        reason: 'mtls-handshake-failed',
        message: `TLS handshake failed: ${err.message}`,
      }),
    );
  }

  run(raw: Socket): Promise<MtlsResult> {
    const key = `${raw.remoteAddress}|${raw.remotePort}`;
    // Handshakes are matched back by the peer's address and port; a socket already reset has neither.
    if (raw.destroyed || raw.remoteAddress === undefined || this.pending.has(key)) {
      raw.destroy();
      return Promise.resolve({
        ok: false,
        reason: 'mtls-handshake-failed',
        message: 'client left before TLS began',
      });
    }
    return new Promise((resolve) => {
      const onClose = (): void =>
        settle(undefined, {
          ok: false,
          reason: 'mtls-handshake-failed',
          message: 'connection closed during the TLS handshake',
        });
      const settle: Settle = (socket, result) => {
        if (this.pending.get(key) !== settle) return;
        this.pending.delete(key);
        raw.off('close', onClose);
        if (!result.ok) {
          socket?.on('error', () => undefined);
          socket?.destroy();
          raw.destroy();
        } else if (socket) {
          // A TLSSocket cannot reset its TLS handle; the session and pump reset clients, so reset the TCP side.
          socket.resetAndDestroy = (): TLSSocket => {
            if (!raw.destroyed) raw.resetAndDestroy();
            socket.destroy();
            return socket;
          };
        }
        resolve(result);
      };
      this.pending.set(key, settle);
      raw.once('close', onClose);
      this.server.emit('connection', raw);
    });
  }

  private settle(socket: TLSSocket, result: MtlsResult): void {
    this.pending.get(`${socket.remoteAddress}|${socket.remotePort}`)?.(socket, result);
  }

  private verify(socket: TLSSocket): MtlsResult {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0)
      return { ok: false, reason: 'mtls-no-certificate', message: 'no client certificate' };
    if (!socket.authorized)
      return {
        ok: false,
        reason: 'mtls-untrusted',
        message: `client certificate not trusted: ${String(socket.authorizationError)}`,
      };
    const serial = canonicalSerial(cert.serialNumber);
    if (this.settings.revokedSerials.has(serial))
      return { ok: false, reason: 'mtls-revoked', message: `client certificate serial ${serial} is revoked` };
    const subject = Object.entries(cert.subject ?? {})
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
      .join(',')
      .replace(/[^\x20-\x7e]/g, '?');
    return { ok: true, socket, identity: { subject, serial } };
  }
}

const terminators = new WeakMap<MtlsSettings, Terminator>();

/**
 * Terminates TLS on an admitted client and verifies its certificate: present, chained to the route's client CA,
 * and not revoked by serial. Nothing is sent toward the relay until this resolves ok; a refused client's
 * connection is destroyed. Bounded by `handshakeTimeoutMs`. Never rejects.
 */
export function terminateMtls(raw: Socket, settings: MtlsSettings): Promise<MtlsResult> {
  let terminator = terminators.get(settings);
  if (!terminator) terminators.set(settings, (terminator = new Terminator(settings)));
  return terminator.run(raw);
}
