import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../../modules/common/src/log';
import type { SandboxPki } from '../../tls/pki';
import { TLS_FRONT_ENTRY_NAME, type FrontConfigMessage, type FrontReport } from './front-main';
import { parseProxyHeader, type ProxiedPeer } from './proxy-header';

/** Options of {@link startTlsFronts}. */
export interface TlsFrontOptions {
  /** Number of front processes (at least 1). */
  readonly count: number;
  /** Public TCP port on 127.0.0.1 (0: any free one). */
  readonly port: number;
  readonly pki: SandboxPki;
  readonly logger: Logger;
  /** Takes one decrypted connection (its remote address is the client's, from the PROXY line). */
  readonly onConnection: (socket: Socket) => void;
}

/** Running TLS fronts: the public port and how to stop them. */
export interface TlsFronts {
  readonly port: number;
  /** Process ids of the fronts (fault tests stop or inspect them). */
  readonly pids: readonly number[];
  /** Stops accepting, drops every connection and ends the front processes. */
  close(): Promise<void>;
}

/**
 * Spreads TLS over `count` child processes: this process accepts each TCP connection (paused, nothing read)
 * and hands the socket to the next front round-robin; the front terminates TLS and connects back to a
 * private Unix socket here with the plaintext. A single event loop doing both TLS and every tunnel's frames
 * made fresh handshakes wait seconds behind bulk traffic; crypto now runs beside the pairing logic.
 */
export async function startTlsFronts(options: TlsFrontOptions): Promise<TlsFronts> {
  const dir = await mkdtemp(join(tmpdir(), 'hrf-relay-core-'));
  const corePath = join(dir, 'core.sock');
  const coreSockets = new Set<Socket>();
  const core = createServer((socket) => {
    coreSockets.add(socket);
    socket.once('close', () => coreSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readProxyLine(socket, (peer) => {
      if (peer) pretendRemote(socket, peer);
      options.onConnection(socket);
    });
  });
  await listen(core, corePath);

  const fronts: ChildProcess[] = [];
  const ticketKeys = randomBytes(48).toString('base64');
  const entry = join(__dirname, `${TLS_FRONT_ENTRY_NAME}${__filename.endsWith('.ts') ? '.ts' : '.js'}`);
  let publicServer: Server | undefined;
  try {
    for (let i = 0; i < Math.max(1, options.count); i++) {
      const child = fork(entry, [], {
        execArgv: __filename.endsWith('.ts')
          ? ['-r', require.resolve('ts-node/register/transpile-only')]
          : [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      fronts.push(child);
      const config: FrontConfigMessage = {
        type: 'config',
        certPem: options.pki.certPem,
        keyPem: options.pki.keyPem,
        ticketKeys,
        corePath,
      };
      child.send(config);
    }
    await Promise.all(fronts.map((child) => readyOf(child)));
    let next = 0;
    publicServer = createServer({ pauseOnConnect: true }, (socket) => {
      const front = fronts[next++ % fronts.length]!;
      front.send({ type: 'socket' }, socket, (err) => {
        if (err) socket.destroy();
      });
    });
    await listen(publicServer, options.port, '127.0.0.1');
  } catch (err) {
    for (const child of fronts) child.kill('SIGKILL');
    core.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const port = (publicServer.address() as { port: number }).port;
  options.logger.debug({ fronts: fronts.length, port }, 'TLS fronts started');

  let closing: Promise<void> | undefined;
  return {
    port,
    pids: fronts.map((f) => f.pid!),
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => publicServer!.close(() => resolve()));
        await Promise.all(
          fronts.map(async (child) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = once(child, 'exit');
            child.kill('SIGKILL');
            await exited;
          }),
        );
        for (const socket of coreSockets) socket.destroy();
        await new Promise<void>((resolve) => core.close(() => resolve()));
        await closed;
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

function readyOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FrontReport): void => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`TLS front exited during start (code ${code})`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Reads the PROXY line in non-flowing mode and puts back what follows it for the HTTP parser. */
function readProxyLine(socket: Socket, done: (peer: ProxiedPeer | undefined) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed === undefined) continue;
      socket.off('readable', onReadable);
      if (!parsed.ok) return void socket.destroy();
      if (parsed.rest.length > 0) socket.unshift(parsed.rest);
      return done(parsed.peer);
    }
  };
  socket.on('readable', onReadable);
}

// The core's socket is a local one; the handlers read the client's address from it (remoteEndpoint).
function pretendRemote(socket: Socket, peer: ProxiedPeer): void {
  Object.defineProperty(socket, 'remoteAddress', { value: peer.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: peer.port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', {
    value: peer.address.includes(':') ? 'IPv6' : 'IPv4',
    configurable: true,
  });
}

function listen(server: Server, portOrPath: number | string, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof portOrPath === 'string') server.listen(portOrPath, onListening);
    else server.listen(portOrPath, host, onListening);
  });
}
