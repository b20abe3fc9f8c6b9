import { createHash, randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { createSandboxHybridConnection } from '../support/hc-endpoints';
import { nextEvent, until } from '../support/hc-fake-service';
import { HycoPeer } from '../support/hyco-peer';

// Interop with Microsoft's unmodified hyco-ws (ws 1.1 inside), in a child process that trusts the
// sandbox CA through NODE_EXTRA_CA_CERTS: both directions, bytes verified by SHA-256.

const PAYLOAD_BYTES = 512 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

let relay: SandboxRelay;
const peers: HycoPeer[] = [];
const listeners: HybridConnectionListener[] = [];

beforeAll(async () => {
  relay = await startSandboxRelay();
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await relay.stop();
});

it('hyco-ws listener ⇄ our sender', async () => {
  const hc = createSandboxHybridConnection(relay, 'hyco-listens');
  const peer = await HycoPeer.start(
    { mode: 'listen', namespace: relay.namespace, path: hc.path, ...hc.listenKey },
    relay.caPem,
  );
  peers.push(peer);
  await peer.waitFor('listening');
  await until(() => relay.getHybridConnection(hc.path).listenerCount === 1, 10_000, 'hyco-ws listener');

  const ws: WebSocket = await connectHybridConnection(hc.send, { timeoutMs: 15_000 });
  const payload = randomBytes(PAYLOAD_BYTES);
  const echoed: Buffer[] = [];
  let echoedBytes = 0;
  ws.on('message', (data: Buffer) => {
    echoed.push(data);
    echoedBytes += data.length;
  });
  for (let offset = 0; offset < payload.length; offset += 64 * 1024)
    ws.send(payload.subarray(offset, offset + 64 * 1024));
  await until(() => echoedBytes >= payload.length, 20_000, 'echo from hyco-ws');
  expect(sha256(Buffer.concat(echoed))).toBe(sha256(payload));

  const closed = nextEvent(ws, 'close');
  ws.close();
  await closed;
  const received = await peer.waitFor('received');
  expect(received).toMatchObject({ bytes: PAYLOAD_BYTES, sha256: sha256(payload) });
});

it('our listener ⇄ hyco-ws sender', async () => {
  const hc = createSandboxHybridConnection(relay, 'hyco-sends');
  const listener = new HybridConnectionListener(hc.listen);
  listeners.push(listener);
  const hash = createHash('sha256');
  let receivedBytes = 0;
  listener.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => {
      hash.update(data);
      receivedBytes += data.length;
      ws.send(data);
    }),
  );
  const up = nextEvent(listener, 'online');
  listener.start();
  await up;

  const peer = await HycoPeer.start(
    { mode: 'send', namespace: relay.namespace, path: hc.path, ...hc.sendKey, bytes: PAYLOAD_BYTES },
    relay.caPem,
  );
  peers.push(peer);
  const done = await peer.waitFor('done', 20_000);
  expect(done.bytes).toBe(PAYLOAD_BYTES);
  expect(done.receivedSha256).toBe(done.sentSha256);
  expect(receivedBytes).toBe(PAYLOAD_BYTES);
  expect(hash.digest('hex')).toBe(done.sentSha256);
  expect(await peer.exitCode()).toBe(0);
});
