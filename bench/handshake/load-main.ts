/**
 * Bulk load for the handshake bench (a child process): one listener sinks everything, `streams` senders push
 * 256 KiB frames as fast as the relay takes them (bounded by bufferedAmount). Prints the ready line once every
 * sender is open; runs until the parent stops it.
 */
import { readFileSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { endpointFromConnectionString } from '../../modules/common/src/hc/endpoint';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { announceReady, exitWithParent } from '../variants/types';

/** Configuration in HANDSHAKE_LOAD_CONFIG. */
interface LoadConfig {
  readonly listenConnectionString: string;
  readonly sendConnectionString: string;
  readonly caFile: string;
  readonly streams: number;
}

const config = JSON.parse(process.env.HANDSHAKE_LOAD_CONFIG ?? '{}') as LoadConfig;
const tls = { ca: readFileSync(config.caFile, 'utf8') };
const listener = new HybridConnectionListener(
  endpointFromConnectionString(config.listenConnectionString, { tls }),
);
listener.on('connection', (ws: WebSocket) => {
  ws.on('message', () => undefined);
  ws.on('error', () => undefined);
});
const senders: WebSocket[] = [];
const chunk = Buffer.alloc(256 * 1024, 7);

function pump(ws: WebSocket): void {
  // Keep a few MiB queued: the relay, not this process, must be the limit.
  while (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(chunk);
  if (ws.readyState === ws.OPEN) setTimeout(() => pump(ws), 1);
}

listener.once('online', () => {
  void (async () => {
    const endpoint = endpointFromConnectionString(config.sendConnectionString, { tls });
    for (let i = 0; i < config.streams; i++) {
      const ws = await connectHybridConnection(endpoint, { timeoutMs: 30_000 });
      ws.on('error', () => undefined);
      senders.push(ws);
      pump(ws);
    }
    announceReady();
  })();
});
listener.start();
exitWithParent(async () => {
  for (const ws of senders) ws.terminate();
  await listener.close();
});
