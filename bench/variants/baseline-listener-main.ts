/**
 * Baseline listener side ("forwarder") child: our HybridConnectionListener accepts every relay connection and
 * pipes it, through ws@8 `createWebSocketStream`, to a fresh TCP connection to the target. No preamble,
 * half-close, limits or metrics: the bare cost of the parts, for comparison with relay-forwarder.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createWebSocketStream } from 'ws';
import { endpointFromConnectionString } from '../../modules/common/src/hc/endpoint';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { announceReady, exitWithParent, readChildConfig } from './types';

const config = readChildConfig();
const endpoint = endpointFromConnectionString(
  `Endpoint=sb://${config.namespace}/;SharedAccessKeyName=${config.keyName};SharedAccessKey=${config.key}`,
  { path: config.path, tls: { ca: readFileSync(config.caFile, 'utf8') } },
);
const listener = new HybridConnectionListener(endpoint);

listener.on('connection', (ws) => {
  const stream = createWebSocketStream(ws);
  const socket = connect({ host: config.targetHost!, port: config.targetPort! });
  socket.setNoDelay(true);
  socket.on('error', () => stream.destroy());
  stream.on('error', () => socket.destroy());
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
  stream.pipe(socket).pipe(stream);
});
listener.once('online', () => announceReady());
listener.start();
exitWithParent(() => listener.close());
