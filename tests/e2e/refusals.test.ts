// End to end: what a client sees when its connection cannot be tunneled, and what the gateway records.
// Real gateway and forwarder through the sandbox relay over TLS.
import { once } from 'node:events';
import type { TunnelFailedEvent } from '../../modules/relay-gateway/src/events';
import { classicRoutes } from '../support/classic-routes';
import {
  defaultRoutes,
  defaultServices,
  e2eRoute,
  SITE,
  startE2eWorld,
  type E2eWorld,
} from '../support/e2e-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';

/** Bound on "promptly": a refused or failed client must be closed well within this. */
const PROMPT_MS = 10_000;

describe('e2e refusals and failures (real gateway and forwarder)', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startE2eWorld({
      services: (t) => ({
        ...defaultServices(t),
        busy: { target: `127.0.0.1:${t.echo.port}`, maxConnections: 1 },
      }),
      // Classic routes (one relay connection per client, opened when it comes): the allow-list case reads the
      // relay's accept counter, which a warm pool refilling or a mux pool growing in the background after the
      // cases before it would also move.
      routes: classicRoutes({
        ...defaultRoutes(),
        fenced: e2eRoute('echo', { allow: ['10.0.0.0/8', '2001:db8::/32'] }),
        single: e2eRoute('echo', { maxConnections: 1 }),
        busy: e2eRoute('busy'),
      }),
    });
  });

  afterAll(async () => {
    await world?.close();
  });

  const counters = (id: string) => world.gateway.gateway.state().routes[id]!.counters;
  const hc = () => world.forwarder.forwarder.state().hybridConnections[SITE]!;

  /** Connects, sends a line, and waits (bounded) for the connection to end; returns how it ended. */
  async function attempt(routeId: string): Promise<{ received: string; errorCode?: string }> {
    const client = await connectClient(world.port(routeId));
    client.socket.write('hello?\n');
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`client on ${routeId} still open after ${PROMPT_MS} ms`)),
        PROMPT_MS,
      );
    });
    try {
      const end = await Promise.race([client.ended, bounded]);
      return { received: end.received.toString(), ...(end.errorCode && { errorCode: end.errorCode }) };
    } finally {
      clearTimeout(timer);
      client.socket.destroy();
    }
  }

  it('target down: the client is closed promptly and the gateway records the forwarder reason (target_refused)', async () => {
    const failed = once(world.gateway.gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    expect(await attempt('down')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    const [event] = await failed;
    expect(event).toMatchObject({ routeId: 'down', reason: 'target-refused' });
    // The forwarder's close code (4502) crossed the relay: the gateway's error carries it.
    expect(event.error).toMatchObject({ code: 'TUNNEL_TARGET_REFUSED' });
    expect(counters('down')).toMatchObject({ accepted: 1, tunneled: 0, failed: { 'target-refused': 1 } });
    expect(hc().services.down!.refused.refused).toBe(1);
  });

  it('unknown port name: the forwarder refuses it (4404) and the gateway records unknown-service', async () => {
    const failed = once(world.gateway.gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    expect(await attempt('unknown')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    const [event] = await failed;
    expect(event).toMatchObject({ routeId: 'unknown', reason: 'unknown-service' });
    expect(counters('unknown').failed).toEqual({ 'unknown-service': 1 });
    expect(hc().refused['unknown-service']).toBe(1);
  });

  it('allow-list: a source outside it is reset at once and never reaches the relay', async () => {
    const relayWork = (): number => world.relay.stats().counters.acceptsDispatched;
    const before = relayWork();
    expect(await attempt('fenced')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    expect(counters('fenced')).toMatchObject({ accepted: 0, tunneled: 0, refused: { 'not-allowed': 1 } });
    expect(relayWork()).toBe(before);
  });

  it('gateway max connections: a second client is refused while the first keeps its tunnel', async () => {
    const first = await connectClient(world.port('single'));
    first.socket.write('one');
    await eventually(() => first.received().toString() === 'one', 'the first client to be echoed', PROMPT_MS);
    expect(await attempt('single')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    expect(counters('single').refused).toEqual({ 'route-limit': 1 });
    first.socket.end('+two');
    expect((await first.ended).received.toString()).toBe('one+two');
    // The slot is free again.
    await eventually(() => counters('single').active === 0, 'the first tunnel to close');
    const again = await connectClient(world.port('single'));
    again.socket.end('three');
    expect((await again.ended).received.toString()).toBe('three');
  });

  it('forwarder max connections: the service refuses (4429) and the gateway records service-busy', async () => {
    const first = await connectClient(world.port('busy'));
    first.socket.write('one');
    await eventually(() => first.received().toString() === 'one', 'the first client to be echoed', PROMPT_MS);
    const failed = once(world.gateway.gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    expect(await attempt('busy')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    expect((await failed)[0]).toMatchObject({ routeId: 'busy', reason: 'service-busy' });
    expect(hc().services.busy!.refused.busy).toBe(1);
    first.socket.end();
    expect((await first.ended).received.toString()).toBe('one');
  });
});
