// The gateway's tunnel opener against a listener that does not multiplex (the mini forwarder, made of the classic
// library parts, like azbridge or an older forwarder): every client is served one connection each while the mux
// offer goes unanswered, the offer's connection is closed after the accept timeout, and nothing is held.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { GatewayHybridConnection } from '../../modules/relay-gateway/src/config/types';
import { createRelayTunnelOpener, type TunnelRequest } from '../../modules/relay-gateway/src/tunnel-opener';
import { eventually } from '../support/relay-gateway-harness';
import { startGatewayWorld, type GatewayWorld } from '../support/relay-gateway-world';

let world: GatewayWorld;
let hc: GatewayHybridConnection;

beforeAll(async () => {
  world = await startGatewayWorld();
  const send = world.relay.listKeys('site-a', 'send');
  hc = {
    name: 'siteA',
    namespace: world.relay.namespace,
    path: 'site-a',
    credential: { kind: 'key', keyName: send.keyName, key: send.primaryKey },
  };
});

afterAll(async () => {
  await world.close();
});

const request = (): TunnelRequest => ({
  routeId: 'echo',
  connectionId: randomUUID(),
  hybridConnection: hc,
  service: 'echo',
  timeoutMs: 20_000,
  signal: new AbortController().signal,
  mux: { maxConnections: 2 },
});

it('serves every client one connection each when the listener does not multiplex, and holds nothing', async () => {
  const opener = createRelayTunnelOpener({ tls: { ca: world.relay.caPem } });
  try {
    for (let i = 0; i < 5; i++) {
      const { duplex, relayConnectionId } = await opener(request());
      expect(relayConnectionId).toBeUndefined(); // a classic connection, not a stream
      const errors: Error[] = [];
      duplex.on('error', (err) => errors.push(err));
      const closed = once(duplex, 'close');
      duplex.end(Buffer.from(`client ${i}`));
      const chunks: Buffer[] = [];
      duplex.on('data', (c: Buffer) => chunks.push(c));
      await closed;
      expect(Buffer.concat(chunks).toString()).toBe(`client ${i}`);
      expect(errors).toEqual([]);
    }
    // The listener never answered the offer: after the accept timeout the gateway knows and closed it.
    await eventually(() => opener.muxStats?.(hc)?.supported === false, 'the offer given up', 20_000);
    expect(opener.muxStats?.(hc)).toMatchObject({ connections: 0, streams: 0, opened: 0 });
    await eventually(() => world.relay.stats().activeTunnels === 0, 'no relay connection held', 20_000);
    // Later clients do not ask again (the retry is minutes away): they go classic at once.
    const later = await opener(request());
    expect(later.relayConnectionId).toBeUndefined();
    later.duplex.on('error', () => undefined);
    const closed = once(later.duplex, 'close');
    later.duplex.destroy();
    await closed;
  } finally {
    opener.close?.();
  }
});
