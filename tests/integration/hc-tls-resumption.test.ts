import type { TLSSocket } from 'node:tls';
import type WebSocket from 'ws';
import { HybridConnectionListener } from '../../modules/common/src/hc/listener';
import { openRelaySocket } from '../../modules/common/src/hc/open-socket';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { relayTlsSessions, TlsSessionCache } from '../../modules/common/src/hc/tls-sessions';
import { connectUrl } from '../../modules/common/src/hc/endpoint';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { createSandboxHybridConnection } from '../support/hc-endpoints';
import { nextEvent } from '../support/hc-fake-service';

// Cold relay connections resume the namespace's TLS session instead of a full handshake (issue 13, item 2).

let relay: SandboxRelay;
const listeners: HybridConnectionListener[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  relay = await startSandboxRelay();
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await relay.stop();
});

/** The TLS socket under a client WebSocket (ws keeps it private; only this test looks). */
function tlsSocketOf(ws: WebSocket): TLSSocket {
  return (ws as unknown as { _socket: TLSSocket })._socket;
}

it('the second sender connection to the same namespace resumes its TLS session', async () => {
  const hc = createSandboxHybridConnection(relay, 'resume');
  const listener = new HybridConnectionListener(hc.listen);
  listeners.push(listener);
  const up = nextEvent(listener, 'online');
  listener.start();
  await up;
  const before = relayTlsSessions.stats();
  const first = await connectHybridConnection(hc.send);
  sockets.push(first);
  const second = await connectHybridConnection(hc.send);
  sockets.push(second);
  expect(tlsSocketOf(second).isSessionReused()).toBe(true);
  expect(relayTlsSessions.stats().resumed).toBeGreaterThan(before.resumed);
});

it('keeps sessions per host and trust store, and can be switched off per socket', async () => {
  const hc = createSandboxHybridConnection(relay, 'resume-cache');
  const cache = new TlsSessionCache();
  const open = async (sessions: TlsSessionCache | false, ca = relay.caPem): Promise<void> => {
    // A sender with no listener is refused (404) after a complete TLS handshake: enough to exercise the cache.
    await openRelaySocket({
      action: 'connect',
      url: connectUrl(hc.send, 'probe'),
      tls: { ca },
      timeoutMs: 10_000,
      tlsSessions: sessions,
    }).then(
      (ws) => ws.terminate(),
      () => undefined,
    );
  };
  await open(cache);
  expect(cache.stats()).toEqual({ full: 1, resumed: 0 });
  await open(cache);
  expect(cache.stats()).toEqual({ full: 1, resumed: 1 });
  // The same CA written differently (another trust store as far as the cache knows) does not reuse the session.
  await open(cache, `${relay.caPem}\n`);
  expect(cache.stats()).toEqual({ full: 2, resumed: 1 });
  await open(false);
  expect(cache.stats()).toEqual({ full: 2, resumed: 1 });
});
