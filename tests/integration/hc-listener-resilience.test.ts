import type { BackoffPolicy } from '../../modules/common/src/hc/backoff';
import type { RelayError } from '../../modules/common/src/hc/errors';
import {
  HybridConnectionListener,
  type HybridConnectionListenerOptions,
  type ReconnectInfo,
} from '../../modules/common/src/hc/listener';
import type { HybridConnectionEndpoint } from '../../modules/common/src/hc/endpoint';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { keyTokenProvider } from '../../modules/common/src/hc/token-provider';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { createSandboxHybridConnection } from '../support/hc-endpoints';
import { nextEvent, until } from '../support/hc-fake-service';

// The listener's "reconnect forever" contract against the sandbox relay: a relay restart, the daily drop,
// token-expiry and entity-deletion closes, the 25-listener quota, and spreading over several listeners.

const POLICY: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitterRatio: 0.5 };
const DOWNTIME_MS = 3_000;
const listeners: HybridConnectionListener[] = [];

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

function listen(endpoint: HybridConnectionEndpoint, options: HybridConnectionListenerOptions = {}) {
  const listener = new HybridConnectionListener(endpoint, { backoff: POLICY, ...options });
  listeners.push(listener);
  return listener;
}

async function online(listener: HybridConnectionListener): Promise<HybridConnectionListener> {
  const up = nextEvent(listener, 'online');
  listener.start();
  await up;
  return listener;
}

/** Mulberry32: reproducible listener choice in the relay. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('listener resilience', () => {
  it('survives a relay restart and comes back without a tight loop', async () => {
    const pki = await generateSandboxPki();
    let relay: SandboxRelay = await startSandboxRelay({ pki });
    try {
      const hc = createSandboxHybridConnection(relay, 'restart');
      const listener = await online(listen(hc.listen, { healthyAfterMs: 60_000 }));
      const reconnects: ReconnectInfo[] = [];
      listener.on('reconnecting', (r) => reconnects.push(r));

      const offline = nextEvent(listener, 'offline');
      const { port, registry } = relay;
      await relay.stop();
      expect(((await offline)[0] as RelayError).code).toBe('RELAY_NETWORK');
      const downAtMs = Date.now();
      // Keep the relay down for a while (a scenario length, not an assertion) so attempts pile up if they would.
      await new Promise((resolve) => setTimeout(resolve, DOWNTIME_MS));
      relay = await startSandboxRelay({ pki, port, registry });
      const downForMs = Date.now() - downAtMs;
      await nextEvent(listener, 'online', 15_000);

      const attempts = reconnects.length;
      // Each wait is at least half its nominal step (jitter only shortens), so however long the relay was
      // down the attempts stay few: 50+100+200+400+500+500… ms of minimum waits must fit in the downtime.
      let minWaitMs = 0;
      let bound = 0;
      while (minWaitMs <= downForMs + 1_000) {
        bound += 1;
        minWaitMs +=
          Math.min(POLICY.maxDelayMs, POLICY.initialDelayMs * 2 ** (bound - 1)) * (1 - POLICY.jitterRatio);
      }
      expect(attempts).toBeLessThanOrEqual(bound);
      expect(reconnects.map((r) => r.attempt)).toEqual(reconnects.map((_r, i) => i + 1));
      for (const r of reconnects) {
        const nominal = Math.min(POLICY.maxDelayMs, POLICY.initialDelayMs * 2 ** (r.attempt - 1));
        expect(r.delayMs).toBeGreaterThanOrEqual(nominal * (1 - POLICY.jitterRatio) - 1);
        expect(r.delayMs).toBeLessThanOrEqual(nominal);
      }
      if (process.env.HC_REPORT)
        process.stderr.write(
          `relay restart: down ${downForMs} ms, ${attempts} reconnect attempts (bound ${bound})\n`,
        );

      const ws = await connectHybridConnection(hc.send);
      ws.close();
    } finally {
      await Promise.all(listeners.splice(0).map((l) => l.close()));
      await relay.stop();
    }
  });

  describe('service-initiated closes', () => {
    let relay: SandboxRelay;
    beforeAll(async () => {
      relay = await startSandboxRelay();
    });
    afterAll(async () => {
      await relay.stop();
    });

    it.each([
      ['the daily drop', undefined, 'RELAY_SERVER_ERROR'],
      ['a token-expiry close (1008)', 1008, 'RELAY_TOKEN_EXPIRED'],
      ['a going-away close (1001)', 1001, 'RELAY_NOT_FOUND'],
    ])('reconnects after %s', async (_name, closeCode, code) => {
      const hc = createSandboxHybridConnection(relay, `drop-${closeCode ?? 'daily'}`);
      const listener = await online(listen(hc.listen));
      const offline = nextEvent(listener, 'offline');
      const back = offline.then(() => nextEvent(listener, 'online'));
      expect(relay.dropListeners(hc.path, closeCode)).toBe(1);
      expect(((await offline)[0] as RelayError).code).toBe(code);
      await back;
      expect(listener.stats.reconnects).toBe(1);
      const ws = await connectHybridConnection(hc.send);
      ws.close();
    });

    it('keeps trying after its hybrid connection is deleted, and returns when it is recreated', async () => {
      const hc = createSandboxHybridConnection(relay, 'deleted');
      const root = relay.rootKeys;
      const listener = await online(
        listen({ ...hc.listen, tokenProvider: keyTokenProvider(root.keyName, root.primaryKey) }),
      );
      const errors: string[] = [];
      listener.on('error', (e) => errors.push(e.code));
      const offline = nextEvent(listener, 'offline');
      relay.deleteHybridConnection(hc.path);
      expect(((await offline)[0] as RelayError).code).toBe('RELAY_NOT_FOUND');
      await until(() => errors.length >= 2, 10_000, 'two refused attempts');
      expect(errors.slice(0, 2)).toEqual(['RELAY_NOT_FOUND', 'RELAY_NOT_FOUND']);
      const back = nextEvent(listener, 'online');
      relay.createHybridConnection(hc.path);
      await back;
    });
  });

  describe('several listeners', () => {
    let relay: SandboxRelay;
    beforeAll(async () => {
      relay = await startSandboxRelay({ random: seededRandom(7) });
    });
    afterAll(async () => {
      await relay.stop();
    });

    it('allows 25 listeners; the 26th is refused with 403 and gets in once a place frees up', async () => {
      const hc = createSandboxHybridConnection(relay, 'quota');
      const first = await Promise.all(Array.from({ length: 25 }, () => online(listen(hc.listen))));
      expect(relay.getHybridConnection(hc.path).listenerCount).toBe(25);

      const extra = listen(hc.listen, { backoff: { ...POLICY, maxDelayMs: 200 } });
      const refused = nextEvent(extra, 'error');
      const up = nextEvent(extra, 'online');
      extra.start();
      const [error] = (await refused) as [RelayError];
      expect(error).toMatchObject({ code: 'RELAY_FORBIDDEN', status: 403 });
      expect(error.message).toMatch(/QuotaExceeded/);
      expect(relay.getHybridConnection(hc.path).listenerCount).toBe(25);

      await first[0].close();
      await up;
      expect(relay.getHybridConnection(hc.path).listenerCount).toBe(25);
    });

    it('spreads connections over several listeners', async () => {
      const hc = createSandboxHybridConnection(relay, 'spread');
      const counts = [0, 0, 0, 0];
      await Promise.all(
        counts.map(async (_c, i) => {
          const listener = await online(listen(hc.listen));
          listener.on('connection', (ws) => {
            counts[i] += 1;
            ws.close();
          });
        }),
      );
      for (let n = 0; n < 40; n += 1) {
        const ws = await connectHybridConnection(hc.send);
        ws.close();
      }
      await until(() => counts.reduce((a, b) => a + b, 0) === 40, 10_000, 'forty accepts');
      for (const count of counts) expect(count).toBeGreaterThan(0);
    });
  });
});
