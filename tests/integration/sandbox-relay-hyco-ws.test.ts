import { globalAgent } from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { tokenFor } from '../support/sandbox-relay-raw-clients';

// The unmodified reference client (it bundles ws 1.1 and has no CA option: it trusts what the
// global HTTPS agent trusts, which stands in here for NODE_EXTRA_CA_CERTS).
const hycoWs = require('hyco-ws') as {
  createRelayedServer(
    options: { server: string; token: string },
    onConnection: (ws: HycoSocket) => void,
  ): HycoServer;
  relayedConnect(address: string, token: string, onOpen: (ws: HycoSocket) => void): HycoSocket;
};
interface HycoSocket {
  on(event: 'message', fn: (data: Buffer | string, flags: { binary?: boolean }) => void): void;
  on(event: 'close' | 'error', fn: (...args: unknown[]) => void): void;
  send(data: Buffer | string, options?: { binary?: boolean }): void;
  close(): void;
}
interface HycoServer {
  on(event: 'listening' | 'error', fn: (...args: unknown[]) => void): void;
  close(callback?: (err: Error | null) => void): void;
}

describe('sandbox relay: interop with the unmodified hyco-ws package', () => {
  let relay: SandboxRelay;
  let previousCa: unknown;

  beforeAll(async () => {
    relay = await startSandboxRelay({ hybridConnections: ['interop'] });
    previousCa = globalAgent.options.ca;
    globalAgent.options.ca = relay.caPem;
  });

  afterAll(async () => {
    globalAgent.options.ca = previousCa as string | undefined;
    await relay.stop();
  });

  it('relays bytes between a hyco-ws listener (echo) and a hyco-ws sender', async () => {
    const root = relay.rootKeys;
    const token = tokenFor(relay, 'interop', root.keyName, root.primaryKey);
    const base = `wss://${relay.namespace}/$hc/interop`;
    const server = hycoWs.createRelayedServer({ server: `${base}?sb-hc-action=listen`, token }, (ws) => {
      ws.on('message', (data, flags) => ws.send(data, { binary: flags.binary === true }));
      ws.on('error', () => undefined);
    });
    server.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => server.on('listening', () => resolve()));
      const payload = randomBytes(200_000);
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const sender = hycoWs.relayedConnect(`${base}?sb-hc-action=connect`, token, (ws) =>
          ws.send(payload, { binary: true }),
        );
        sender.on('message', (data) => {
          resolve(Buffer.from(data as Buffer));
          sender.close();
        });
        sender.on('error', (err) => reject(err as Error));
      });
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(sha(echoed)).toBe(sha(payload));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
