// On-prem targets for end-to-end tests, each on an ephemeral loopback port. Built from the existing harness parts
// (startTcpServer, sha256Sink, echoUntilEof) and the demo's sample HTTP service, so there is one of each.
import { createHash } from 'node:crypto';
import type * as net from 'node:net';
import { startHttpService, type SampleService } from '../../sandbox/src/demo/services';
import { sha256Sink } from './relay-gateway-world';
import { echoUntilEof, startTcpServer, type TestTcpServer } from './tunnel-harness';
import { writePattern } from './e2e-streams';

/** Echoes every byte at once; ends its side when the client ends (half-close aware). */
export function startEchoTarget(): Promise<TestTcpServer> {
  return startTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
}

/** Hashes everything it receives; at the client's FIN it answers with the sha256 hex and ends. */
export function startSha256SinkTarget(): Promise<TestTcpServer> {
  return startTcpServer(sha256Sink);
}

/** Answers only after the client's FIN: with everything it read, then ends (the half-close target). */
export function startRespondAfterEofTarget(): Promise<TestTcpServer> {
  return startTcpServer(echoUntilEof);
}

/** The demo's sample HTTP service: GET answers a page naming `location / service`. */
export function startHttpTarget(location: string, service: string): Promise<SampleService> {
  return startHttpService({ location, service });
}

/** What a {@link startSourceTarget} connection has done so far. */
export interface SourceProgress {
  /** Bytes handed to `socket.write` so far (the producer only writes more after 'drain'). */
  written: number;
  /** sha256 hex of all it sent, once it finished. */
  sha256?: string;
  readonly socket: net.Socket;
}

/** A target that streams `totalBytes` of pattern to each client as fast as backpressure lets it, then ends. */
export interface SourceTarget extends TestTcpServer {
  /** One entry per accepted connection, in order. */
  readonly connections: SourceProgress[];
}

/** Starts a producer target (the far-ahead side of the slow-reader test). */
export async function startSourceTarget(totalBytes: number, seed: number): Promise<SourceTarget> {
  const connections: SourceProgress[] = [];
  const server = await startTcpServer((socket) => {
    socket.on('error', () => undefined);
    const progress: SourceProgress = { written: 0, socket };
    connections.push(progress);
    void writePattern(socket, totalBytes, seed, { onWrite: (n) => (progress.written += n) }).then(
      (digest) => {
        progress.sha256 = digest;
        socket.end();
      },
      () => undefined,
    );
  });
  return { ...server, connections };
}

/** sha256 hex of a string or buffer. */
export function sha256Of(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
