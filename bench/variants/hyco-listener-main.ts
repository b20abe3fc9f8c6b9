/**
 * hyco-ws listener side ("forwarder") child: `createRelayedServer` of the unmodified hyco-ws package accepts every
 * relay connection and joins it, by pipeHycoSocket, to a fresh TCP connection to the target. Trusts the sandbox CA
 * only through NODE_EXTRA_CA_CERTS, as hyco-ws has no CA option.
 */
import { connect } from 'node:net';
import { pipeHycoSocket, type HycoWsModule } from './hyco-pipe';
import { announceReady, exitWithParent, readChildConfig } from './types';

const hyco = require('hyco-ws') as HycoWsModule;
const config = readChildConfig();
const resource = `http://${config.namespace}/${config.path}`;

const server = hyco.createRelayedServer(
  {
    server: `wss://${config.namespace}/$hc/${config.path}?sb-hc-action=listen`,
    token: () => hyco.createRelayToken(resource, config.keyName, config.key),
  },
  (ws) => {
    const socket = connect({ host: config.targetHost!, port: config.targetPort! });
    socket.setNoDelay(true);
    pipeHycoSocket(ws, socket);
  },
);
let announced = false;
server.on('listening', () => {
  if (!announced) announceReady();
  announced = true;
});
// hyco-ws reconnects by itself after an error; the bench notices lost listeners through failed connections.
server.on('error', (err) => process.stderr.write(`hyco-ws listener error: ${String(err)}\n`));
exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
