// After a relay outage the forwarder's control channels of one hybrid connection come back together: as soon as
// one reaches the relay again, the others stop waiting out their backoff. Before, a channel whose backoff had grown
// during the outage stayed offline for up to the backoff cap (30 s by default) after the relay was back; in the
// chaos suite a baseline taken meanwhile was one control channel short, and that channel coming back during the
// next case read as a "stray forwarder socket" (docs/chaos.md).
import type { BackoffPolicy } from '../../modules/common/src/hc/backoff';
import { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { eventually, testLogger } from '../support/relay-gateway-harness';

// Jitter 1: a delay is 60 s × (1 − random()). The first channel to lose the relay draws 0 (a 60 s wait, far past
// every bound of this test); every later draw is 0.99 (0.6 s), so the other channel keeps retrying and is the first
// back. Which of the two draws the long wait does not matter.
const POLICY: BackoffPolicy = { initialDelayMs: 60_000, maxDelayMs: 60_000, multiplier: 1, jitterRatio: 1 };

describe('forwarder control channels after a relay restart', () => {
  let relay: SandboxRelay | undefined;
  let forwarder: Forwarder | undefined;

  afterEach(async () => {
    await forwarder?.stop(0);
    await relay?.stop();
  });

  it('every channel is back once one is, not when its own backoff ends', async () => {
    const pki = await generateSandboxPki();
    relay = await startSandboxRelay({ pki });
    relay.createHybridConnection('site');
    const keys = relay.createAuthorizationRule('site', 'listen', ['Listen']);
    let draws = 0;
    forwarder = new Forwarder({
      log: testLogger(),
      tls: { ca: relay.caPem },
      listener: { backoff: POLICY, random: () => (draws++ === 0 ? 0 : 0.99) },
    });
    const applied = forwarder.applyDocument({
      schemaVersion: 1,
      hybridConnections: {
        site: {
          connectionString: keys.primaryConnectionString,
          listeners: 2,
          services: { echo: { target: '127.0.0.1:9' } },
        },
      },
    });
    expect(applied.ok).toBe(true);
    const online = (): number => forwarder!.state().hybridConnections.site?.onlineListeners ?? -1;
    await eventually(() => online() === 2, 'both control channels online', 30_000);

    const { port, registry } = relay;
    await relay.stop();
    // Both channels lost the relay and drew their first delay: one 60 s, the other 0.6 s.
    await eventually(() => online() === 0 && draws >= 2, 'both control channels offline', 30_000);
    relay = await startSandboxRelay({ pki, port, registry });

    await eventually(() => online() >= 1, 'the retrying channel back', 30_000);
    // The bound is a generous wait, not a timing assertion: it only has to stay below the other's 60 s backoff.
    await eventually(() => online() === 2, 'the second channel back with the first', 20_000);
    expect(forwarder.runtime('site')!.controlChannels.map((l) => l.state)).toEqual(['online', 'online']);
  }, 120_000);
});
