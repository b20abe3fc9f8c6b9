import { AddressInfo, Socket } from 'node:net';
import { createServer, Server, TLSSocket } from 'node:tls';
import { Duplex } from 'node:stream';
import { HubLogger } from './logger';

/** Where the listener hands a connection once it knows the protocol. */
export interface ProtocolHandlers {
  mqtt(stream: Duplex): void;
  https(stream: Duplex): void;
}

/** One TLS port for both protocols, as `localhost:{port}` is one host name for devices and services alike. */
export class HubListener {
  private readonly server: Server;
  // Raw TCP sockets too: one still in its TLS handshake would otherwise hold close() for the handshake timeout.
  private readonly sockets = new Set<{ destroy(): void; once(event: 'close', fn: () => void): unknown }>();

  constructor(
    tls: { certPem: string; keyPem: string },
    private readonly handlers: ProtocolHandlers,
    private readonly log: HubLogger,
  ) {
    this.server = createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' }, (socket) =>
      this.route(socket),
    );
    this.server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'tls handshake failed'));
    this.server.on('connection', (raw: Socket) => this.track(raw));
  }

  // The first decrypted byte tells the protocols apart: an MQTT CONNECT packet starts with 0x10, an HTTP
  // request with an ASCII method name. The byte is put back before the protocol handler reads.
  private track(socket: Socket | TLSSocket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private route(socket: TLSSocket): void {
    this.track(socket);
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x10) {
        // aedes reads through 'readable', which picks up the unshifted chunk by itself.
        this.handlers.mqtt(socket);
      } else {
        this.handlers.https(socket);
        socket.resume();
      }
    });
  }

  /** Listens on `host:port` (0 for an ephemeral port); resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting and destroys every open connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}
