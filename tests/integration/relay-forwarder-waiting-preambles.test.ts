// Many relay connections waiting for their preamble at once (a burst of senders, or slow ones) must not make the
// forwarder print Node's MaxListenersExceededWarning on stderr: each waiting connection watches the hybrid
// connection's shutdown signal until its preamble arrives, by design. The forwarder runs as a child process (its
// stderr is what an operator sees), against the sandbox relay over TLS.
import { once } from 'node:events';
import WebSocket from 'ws';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { startModuleChild, type ModuleChildWorld } from '../support/module-child-world';
import { handWrittenPreamble } from '../support/relay-forwarder-harness';
import { startTcpServer, type TestTcpServer } from '../support/tunnel-harness';

const WAITING = 50;
const PATH = 'site-a';

describe('relay-forwarder (child process) with many connections waiting for their preamble', () => {
  let relay: SandboxRelay;
  let echo: TestTcpServer;
  let forwarder: ModuleChildWorld;
  let sendToken: string;

  beforeAll(async () => {
    relay = await startSandboxRelay();
    relay.createHybridConnection(PATH);
    const listen = relay.createAuthorizationRule(PATH, 'forwarder', ['Listen']);
    const send = relay.createAuthorizationRule(PATH, 'sender', ['Send']);
    sendToken = createSasToken({
      resource: relayResourceUri(relay.namespace, PATH),
      keyName: send.keyName,
      key: send.primaryKey,
      lifetimeMs: 300_000,
    });
    echo = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    forwarder = await startModuleChild(
      'relay-forwarder',
      {
        schemaVersion: 1,
        hybridConnections: {
          [PATH]: {
            connectionString: listen.primaryConnectionString,
            listeners: 1,
            services: { echo: { target: `127.0.0.1:${echo.port}` } },
          },
        },
      },
      relay.caPem,
    );
    await forwarder.process.waitForLog((l) => l.msg === 'listener online', 'the control channel online');
  }, 60_000);

  afterAll(async () => {
    await forwarder?.close();
    await echo?.close();
    await relay?.stop();
  });

  it(`prints nothing on stderr with ${WAITING} connections waiting, and serves each of them`, async () => {
    const senders: WebSocket[] = [];
    try {
      for (let i = 0; i < WAITING; i++) {
        const ws = new WebSocket(`wss://${relay.namespace}/$hc/${PATH}?sb-hc-action=connect`, {
          ca: relay.caPem,
          headers: { ServiceBusAuthorization: sendToken },
          perMessageDeflate: false,
        });
        ws.on('error', () => undefined);
        senders.push(ws);
      }
      // Every sender is through: the forwarder holds all of them, each waiting for its preamble.
      await Promise.all(senders.map((ws) => once(ws, 'open')));
      // Only now does any preamble go out; each is answered once the echo target is dialed.
      const replies = senders.map((ws) => once(ws, 'message'));
      for (const ws of senders) ws.send(handWrittenPreamble('echo'));
      for (const [data] of (await Promise.all(replies)) as [Buffer][]) expect([...data]).toEqual([1, 0, 0]);
    } finally {
      for (const ws of senders) ws.close();
      await Promise.all(
        senders.map((ws) => (ws.readyState === WebSocket.CLOSED ? undefined : once(ws, 'close'))),
      );
    }
    // A line on stderr would be Node's warning; the structured log goes to stdout.
    expect(forwarder.process.stderr).toBe('');
  });
});
