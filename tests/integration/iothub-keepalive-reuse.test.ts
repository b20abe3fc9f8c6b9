// The IoT Hub service clients must not send a request on a keep-alive socket the hub has already given up on.
// The cause of the query resets at 10,000 locations: the controller's event loop is busy (planning) past the
// hub's keep-alive timeout, so neither the agent's idle timer nor the server's FIN is processed before the next
// request, which goes out on the dead socket and comes back ECONNRESET / "socket hang up". Real sockets: an HTTPS
// server with a 2 s keep-alive timeout (announced as `Keep-Alive: timeout=2`, as Node's servers do) answering
// twin reads, and a client that blocks its event loop for 3 s between two reads.
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createIotHubServiceClients } from '../../cloud/src/azure/iothub-service-clients';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';

const KEEP_ALIVE_MS = 2000;

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a controller planning 10,000 locations holds the event loop like this
  }
}

describe('IoT Hub service clients and the hub closing idle keep-alive sockets', () => {
  let server: Server;
  let port: number;
  let caPem: string;
  const connections: Socket[] = [];

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    caPem = pki.caPem;
    server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ deviceId: 'd1', etag: 'AAAA', tags: {}, properties: {} }));
      });
    });
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.on('connection', (s: Socket) => connections.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of connections) s.destroy();
    server.close();
    await once(server, 'close');
  });

  it('reads again after a busy pause longer than the keep-alive timeout (a new connection, no reset)', async () => {
    const clients = createIotHubServiceClients(
      `HostName=localhost:${port};SharedAccessKeyName=iothubowner;SharedAccessKey=${Buffer.from('k').toString('base64')}`,
      { ca: caPem },
    );
    try {
      await clients.registry.getTwin('d1');
      expect(connections).toHaveLength(1);
      busyWait(KEEP_ALIVE_MS + 1000);
      const { responseBody } = await clients.registry.getTwin('d1');
      expect((responseBody as unknown as { deviceId: string }).deviceId).toBe('d1');
      // The stale socket was not reused: the second read had a connection of its own.
      expect(connections).toHaveLength(2);
      // And a quick follow-up still reuses the fresh one (keep-alive itself is kept).
      await clients.registry.getTwin('d1');
      expect(connections).toHaveLength(2);
    } finally {
      clients.close();
    }
  });
});
