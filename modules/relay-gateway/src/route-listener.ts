import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Stable codes for a port that could not be opened. */
export type ListenErrorCode =
  'PORT_IN_USE' | 'ADDRESS_NOT_AVAILABLE' | 'PORT_PERMISSION_DENIED' | 'LISTEN_FAILED';

/** A route's port could not be opened; retried on the next configuration apply. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  /** The port may be freed (or the address added) later, so applying again may succeed. */
  readonly retryable = true;

  constructor(
    readonly code: ListenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where to listen. */
export interface ListenAddress {
  readonly port: number;
  readonly bindAddress: string;
}

/**
 * One listening TCP socket for one route. It only accepts: admission and tunnels belong to the caller, and
 * accepted sockets are not tracked here, so closing the listener never touches live connections.
 */
export class RouteListener {
  private server: Server | undefined;
  private bound: AddressInfo | undefined;

  constructor(
    readonly address: ListenAddress,
    private readonly onConnection: (socket: Socket) => void,
  ) {}

  /** The bound address once listening (its port is the real one when the route asked for port 0). */
  get boundAddress(): AddressInfo | undefined {
    return this.bound;
  }

  /** Opens the port; rejects with a ListenError whose message names the address. */
  listen(): Promise<AddressInfo> {
    if (this.server) return Promise.reject(new Error('RouteListener.listen() called twice'));
    const server = createServer({ noDelay: true, allowHalfOpen: true }, this.onConnection);
    this.server = server;
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server = undefined;
        server.close();
        reject(listenError(this.address, err));
      };
      server.once('error', onError);
      // exclusive: never share the port with another process's cluster-style listener.
      server.listen({ port: this.address.port, host: this.address.bindAddress, exclusive: true }, () => {
        server.off('error', onError);
        // After listening, errors are per accept (e.g. EMFILE); Node keeps accepting, so they are not fatal.
        server.on('error', () => undefined);
        this.bound = server.address() as AddressInfo;
        resolve(this.bound);
      });
    });
  }

  /**
   * Stops accepting. The listening socket is released at once (the port can be bound again immediately);
   * connections already accepted are left alone.
   */
  close(): void {
    const server = this.server;
    this.server = undefined;
    this.bound = undefined;
    server?.close();
  }
}

function listenError(address: ListenAddress, err: NodeJS.ErrnoException): ListenError {
  const where = `${address.bindAddress.includes(':') ? `[${address.bindAddress}]` : address.bindAddress}:${address.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError('PORT_IN_USE', `${where} is already in use on this host`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new ListenError(
        'ADDRESS_NOT_AVAILABLE',
        `${address.bindAddress} is not an address of this host`,
        {
          cause: err,
        },
      );
    case 'EACCES':
      return new ListenError(
        'PORT_PERMISSION_DENIED',
        `${where}: permission denied (ports below 1024 need privileges)`,
        {
          cause: err,
        },
      );
    default:
      return new ListenError('LISTEN_FAILED', `${where}: cannot listen (${err.code ?? err.message})`, {
        cause: err,
      });
  }
}
