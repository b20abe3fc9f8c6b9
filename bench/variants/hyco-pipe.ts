import type { Socket } from 'node:net';

/** The part of hyco-ws's WebSocket (ws 1.1) the bench uses; the package ships no types. */
export interface HycoSocket {
  readonly readyState: number;
  on(event: 'open', fn: () => void): void;
  on(event: 'message', fn: (data: Buffer | string) => void): void;
  on(event: 'close', fn: (code?: number) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  send(data: Buffer, options: { binary: boolean }, callback: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  close(code?: number): void;
  terminate(): void;
}

/** The hyco-ws module surface the bench uses. */
export interface HycoWsModule {
  createRelayedServer(
    options: { server: string; token: string | (() => string) },
    onConnection: (ws: HycoSocket) => void,
  ): {
    on(event: string, fn: (...args: unknown[]) => void): void;
    close(cb?: (err: Error | null) => void): void;
  };
  relayedConnect(address: string, token: string): HycoSocket;
  createRelayToken(uri: string, keyName: string, key: string): string;
}

/** ws 1.1's ready states. */
const CONNECTING = 0;
const OPEN = 1;

/** Sends in flight (not yet written to the socket) before the TCP side is paused: bounded memory, like the others. */
const MAX_SENDS_IN_FLIGHT = 16;

/**
 * Joins a hyco-ws WebSocket and a TCP socket with backpressure both ways, the way an application on hyco-ws has to
 * (ws 1.1 has no stream wrapper): TCP data becomes binary messages, paused while too many sends are unflushed;
 * messages are written to TCP, pausing the WebSocket when TCP is full. Either side ending closes the other.
 * TCP data is only read once the WebSocket is open.
 */
export function pipeHycoSocket(ws: HycoSocket, tcp: Socket): void {
  let inFlight = 0;
  const closeWs = (): void => {
    if (ws.readyState === OPEN) ws.close();
    else if (ws.readyState === CONNECTING) ws.terminate();
  };
  const afterSend = (err?: Error): void => {
    inFlight -= 1;
    if (err) return void tcp.destroy();
    if (inFlight <= MAX_SENDS_IN_FLIGHT / 2 && tcp.isPaused()) tcp.resume();
  };
  const start = (): void => {
    tcp.on('data', (chunk: Buffer) => {
      if (ws.readyState !== OPEN) return void tcp.destroy();
      inFlight += 1;
      ws.send(chunk, { binary: true }, afterSend);
      if (inFlight >= MAX_SENDS_IN_FLIGHT) tcp.pause();
    });
  };
  ws.on('message', (data) => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (!tcp.write(chunk) && ws.readyState === OPEN) ws.pause();
  });
  tcp.on('drain', () => {
    if (ws.readyState === OPEN) ws.resume();
  });
  // A WebSocket close ends the whole tunnel (no half-close in this protocol): deliver what arrived, then FIN.
  ws.on('close', () => tcp.end());
  ws.on('error', () => tcp.destroy());
  tcp.on('error', () => tcp.destroy());
  tcp.on('end', closeWs);
  tcp.on('close', closeWs);
  if (ws.readyState === OPEN) start();
  else ws.on('open', start);
}
