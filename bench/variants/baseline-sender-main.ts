/**
 * Baseline sender side ("gateway") child: a TCP server whose every connection becomes one HC sender connection
 * (our connectHybridConnection), then ws@8 `createWebSocketStream` piped both ways. No preamble, half-close,
 * limits, allow-list or metrics: the bare cost of the parts, for comparison with relay-gateway.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createWebSocketStream } from 'ws';
import { endpointFromConnectionString } from '../../modules/common/src/hc/endpoint';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { announceReady, exitWithParent, readChildConfig } from './types';

const config = readChildConfig();
// A token is minted per connection from the Send key, as relay-gateway does.
const endpoint = endpointFromConnectionString(
  `Endpoint=sb://${config.namespace}/;SharedAccessKeyName=${config.keyName};SharedAccessKey=${config.key}`,
  { path: config.path, tls: { ca: readFileSync(config.caFile, 'utf8') } },
);
const sockets = new Set<Socket>();

const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
  const abort = new AbortController();
  socket.once('close', () => abort.abort());
  connectHybridConnection(endpoint, { signal: abort.signal, timeoutMs: 30_000 }).then(
    (ws) => {
      if (socket.destroyed) {
        ws.terminate();
        return;
      }
      const stream = createWebSocketStream(ws);
      stream.on('error', () => socket.destroy());
      socket.on('close', () => stream.destroy());
      stream.on('close', () => socket.destroy());
      socket.pipe(stream).pipe(socket);
    },
    () => socket.destroy(),
  );
});

server.listen(0, '127.0.0.1', () => announceReady({ port: (server.address() as AddressInfo).port }));
exitWithParent(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
