/**
 * hyco-ws sender side ("gateway") child: a TCP server whose every connection becomes one `relayedConnect` of the
 * unmodified hyco-ws package (ws 1.1), joined to the socket by pipeHycoSocket. Trusts the sandbox CA only through
 * NODE_EXTRA_CA_CERTS, as hyco-ws has no CA option.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { pipeHycoSocket, type HycoWsModule } from './hyco-pipe';
import { announceReady, exitWithParent, readChildConfig } from './types';

const hyco = require('hyco-ws') as HycoWsModule;
const config = readChildConfig();
// relayedConnect takes the URI as given (createRelayBaseUri would pin port 443).
const address = `wss://${config.namespace}/$hc/${config.path}?sb-hc-action=connect`;
const resource = `http://${config.namespace}/${config.path}`;
const sockets = new Set<Socket>();

const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  // A token per connection, as hyco-ws's own samples do.
  const ws = hyco.relayedConnect(address, hyco.createRelayToken(resource, config.keyName, config.key));
  pipeHycoSocket(ws, socket);
});

server.listen(0, '127.0.0.1', () => announceReady({ port: (server.address() as AddressInfo).port }));
exitWithParent(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
