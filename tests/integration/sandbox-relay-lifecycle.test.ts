import WebSocket from 'ws';
import { startSandboxRelay } from '../../sandbox/src/relay';
import {
  closed,
  hcUrl,
  openWs,
  RawListener,
  tokenFor,
  waitUntil,
} from '../support/sandbox-relay-raw-clients';

describe('sandbox relay: latency profile and shutdown', () => {
  it('works end to end with the azure latency profile', async () => {
    const relay = await startSandboxRelay({ hybridConnections: ['hc1'], latencyProfile: 'azure' });
    try {
      const root = relay.rootKeys;
      const token = tokenFor(relay, 'hc1', root.keyName, root.primaryKey);
      const listener = await RawListener.open(relay, 'hc1', token);
      const senderP = openWs(hcUrl(relay, 'hc1', 'connect'), {
        ca: relay.caPem,
        headers: { ServiceBusAuthorization: token },
      });
      const rendezvous = await openWs((await listener.nextAccept()).accept.address, { ca: relay.caPem });
      const sender = await senderP;
      const got = new Promise<string>((r) => rendezvous.once('message', (d) => r(String(d))));
      sender.send('hello');
      expect(await got).toBe('hello');
      sender.close();
      await closed(rendezvous);
      await listener.close();
    } finally {
      await relay.stop();
    }
  });

  it('stop() drops listeners, tunnels and held senders', async () => {
    const relay = await startSandboxRelay({ hybridConnections: ['hc1'] });
    const root = relay.rootKeys;
    const token = tokenFor(relay, 'hc1', root.keyName, root.primaryKey);
    const headers = { ServiceBusAuthorization: token };
    const listener = await RawListener.open(relay, 'hc1', token);
    const tunnelSenderP = openWs(hcUrl(relay, 'hc1', 'connect'), { ca: relay.caPem, headers });
    const rendezvous = await openWs((await listener.nextAccept()).accept.address, { ca: relay.caPem });
    const tunnelSender = await tunnelSenderP;
    const held = new WebSocket(hcUrl(relay, 'hc1', 'connect'), { ca: relay.caPem, headers });
    const heldOutcome = new Promise<string>((resolve) => {
      held.on('error', (err) => resolve(err.message));
      held.on('open', () => resolve('opened'));
    });
    await listener.nextAccept();
    await waitUntil(() => relay.stats().pendingRendezvous === 1, 'the sender is held');

    const everything = [closed(listener.control), closed(rendezvous), closed(tunnelSender)];
    await relay.stop();
    for (const result of await Promise.all(everything)) expect(result.code).toBe(1006);
    expect(await heldOutcome).not.toBe('opened');
    await relay.stop(); // idempotent
  });

  it('stop() abandons a handshake waiting in the token-check delay', async () => {
    const relay = await startSandboxRelay({
      hybridConnections: ['hc1'],
      latencyProfile: { name: 'slow', tokenCheckMs: [60_000, 60_000], rendezvousMs: [0, 0] },
    });
    const root = relay.rootKeys;
    const pending = new WebSocket(hcUrl(relay, 'hc1', 'listen'), {
      ca: relay.caPem,
      headers: { ServiceBusAuthorization: tokenFor(relay, 'hc1', root.keyName, root.primaryKey) },
    });
    const outcome = new Promise<string>((resolve) => {
      pending.on('error', (err) => resolve(err.message));
      pending.on('open', () => resolve('opened'));
    });
    await new Promise((r) => setTimeout(r, 50));
    await relay.stop();
    expect(await outcome).not.toBe('opened');
  });
});
