// Metrics of both modules, read through an in-memory OpenTelemetry reader after real tunneled traffic through the
// sandbox relay (gateway → relay over TLS → forwarder → TCP targets): counts and bytes match exactly what was sent
// (each transfer verified by sha256), refusals land on the right reason, listener and token gauges follow.
import { ATTR } from '../../modules/common/src/telemetry/instruments';
import { NO_SERVICE_ROUTE } from '../../modules/relay-forwarder/src/observability';
import {
  EMPTY,
  forwarderOnline,
  LOCATION,
  route,
  SITE,
  startObservabilityWorld,
  type ObservabilityWorld,
} from '../support/observability-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { patternBytes, sha256 } from '../support/tunnel-harness';

const KiB = 1024;
const SIZES = [0, 1, 1000, 64 * KiB + 1, 1024 * KiB + 3];

describe('observability metrics after real traffic (sandbox relay, TLS)', () => {
  let world: ObservabilityWorld;
  let services: Record<string, unknown>;

  beforeAll(async () => {
    world = await startObservabilityWorld();
    services = {
      echo: { target: `127.0.0.1:${world.echo.port}` },
      sink: { target: `127.0.0.1:${world.sink.port}` },
      held: { target: `127.0.0.1:${world.hold.port}`, maxConnections: 1 },
      down: { target: `127.0.0.1:${world.downPort}` },
    };
    const applied = world.forwarder.applyDocument(world.forwarderDocument(services));
    expect(applied.ok).toBe(true);
    const result = await world.gateway.applyDocument(
      world.gatewayDocument({
        echo: route('echo'),
        sink: route('sink'),
        fenced: route('echo', { allow: ['10.0.0.0/8'] }),
        single: route('held', { maxConnections: 1 }),
        held2: route('held'),
        down: route('down'),
        nosuch: route('nosuch'),
        nolistener: route('echo', { hybridConnection: EMPTY }),
      }),
    );
    expect(result).toMatchObject({ ok: true, refusedRoutes: [] });
    await forwarderOnline(world.forwarder);
  });

  afterAll(async () => {
    await world?.close();
  });

  const idle = (): Promise<void> =>
    eventually(
      () =>
        world.gateway.state().activeConnections === 0 &&
        Object.values(world.forwarder.state().hybridConnections[SITE]!.services).every((s) => s.active === 0),
      'every tunnel closed',
      10_000,
    );

  it('counts accepted tunnels, bytes each way and connect latency exactly (sha256-verified transfers)', async () => {
    let sent = 0;
    for (const [i, size] of SIZES.entries()) {
      const payload = patternBytes(size, 100 + i);
      sent += size;
      const echoed = await connectClient(world.port('echo'));
      echoed.socket.end(payload);
      const back = await echoed.ended;
      expect({ size, sha256: sha256(back.received), error: back.errorCode }).toEqual({
        size,
        sha256: sha256(payload),
        error: undefined,
      });

      const sunk = await connectClient(world.port('sink'));
      sunk.socket.end(payload);
      const answer = await sunk.ended;
      expect(answer.received.toString()).toBe(sha256(payload));
    }
    await idle();

    const g = await world.gatewayMetrics.collect();
    const n = SIZES.length;
    const echoAttrs = { [ATTR.module]: 'relay-gateway', [ATTR.route]: 'echo', [ATTR.hybridConnection]: SITE };
    expect(g.value('connectionsAccepted', echoAttrs)).toBe(n);
    expect(g.value('connectionsAccepted', { [ATTR.route]: 'sink', [ATTR.service]: 'sink' })).toBe(n);
    expect(g.value('tunnelBytes', { ...echoAttrs, [ATTR.direction]: 'to_target' })).toBe(sent);
    expect(g.value('tunnelBytes', { ...echoAttrs, [ATTR.direction]: 'to_client' })).toBe(sent);
    expect(g.value('tunnelBytes', { [ATTR.route]: 'sink', [ATTR.direction]: 'to_target' })).toBe(sent);
    // The sink answers each transfer with 64 hex characters.
    expect(g.value('tunnelBytes', { [ATTR.route]: 'sink', [ATTR.direction]: 'to_client' })).toBe(64 * n);
    expect(g.value('tunnelsActive', { [ATTR.route]: 'echo' })).toBe(0);
    expect(g.histogram('connectDuration', { [ATTR.route]: 'echo' }).count).toBe(n);
    expect(g.histogram('connectDuration', { [ATTR.route]: 'sink' }).count).toBe(n);
    expect(g.value('connectionsRefused', { [ATTR.route]: 'echo' })).toBe(0);

    const f = await world.forwarderMetrics.collect();
    const fEcho = { [ATTR.module]: 'relay-forwarder', [ATTR.route]: 'echo', [ATTR.location]: LOCATION };
    expect(f.value('connectionsAccepted', { ...fEcho, [ATTR.service]: 'echo' })).toBe(n);
    expect(f.value('tunnelBytes', { ...fEcho, [ATTR.direction]: 'to_target' })).toBe(sent);
    expect(f.value('tunnelBytes', { ...fEcho, [ATTR.direction]: 'to_client' })).toBe(sent);
    expect(f.value('tunnelBytes', { [ATTR.route]: 'sink', [ATTR.direction]: 'to_target' })).toBe(sent);
    expect(f.value('tunnelBytes', { [ATTR.route]: 'sink', [ATTR.direction]: 'to_client' })).toBe(64 * n);
    expect(f.histogram('connectDuration', { [ATTR.route]: 'sink' }).count).toBe(n);
    expect(f.value('tunnelsActive', fEcho)).toBe(0);
  });

  it('counts the bytes of a tunnel that is still open when asked to flush', async () => {
    const before = (await world.gatewayMetrics.collect()).value('tunnelBytes', {
      [ATTR.route]: 'echo',
      [ATTR.direction]: 'to_target',
    });
    const client = await connectClient(world.port('echo'));
    const payload = patternBytes(5000, 7);
    client.socket.write(payload);
    await eventually(() => client.received().length === payload.length, 'the echo', 10_000);
    world.gatewayBinding.flushBytes();
    world.forwarderBinding.flushBytes();
    const open = await world.gatewayMetrics.collect();
    expect(open.value('tunnelBytes', { [ATTR.route]: 'echo', [ATTR.direction]: 'to_target' })).toBe(
      before + payload.length,
    );
    expect(open.value('tunnelsActive', { [ATTR.route]: 'echo' })).toBe(1);
    const fOpen = await world.forwarderMetrics.collect();
    expect(fOpen.value('tunnelsActive', { [ATTR.route]: 'echo' })).toBe(1);
    client.socket.end();
    await client.ended;
    await idle();
    // Closing adds only what the flush had not counted yet: nothing twice.
    const closed = await world.gatewayMetrics.collect();
    expect(closed.value('tunnelBytes', { [ATTR.route]: 'echo', [ATTR.direction]: 'to_target' })).toBe(
      before + payload.length,
    );
    expect(closed.value('tunnelsActive', { [ATTR.route]: 'echo' })).toBe(0);
  });

  it('puts every refusal on the right reason, on the side that refused', async () => {
    const refusedOnce = async (routeId: string): Promise<void> => {
      const client = await connectClient(world.port(routeId));
      client.socket.end('x');
      const end = await client.ended;
      expect({ routeId, received: end.received.length }).toEqual({ routeId, received: 0 });
    };
    // Holds the only slot of route `single` and of the forwarder's `held` service.
    const holder = await connectClient(world.port('single'));
    await eventually(
      () => world.forwarder.state().hybridConnections[SITE]!.services.held!.active === 1,
      'the held tunnel',
      10_000,
    );
    await refusedOnce('fenced');
    await refusedOnce('single');
    await refusedOnce('held2');
    await refusedOnce('down');
    await refusedOnce('nosuch');
    await refusedOnce('nolistener');
    holder.socket.resetAndDestroy();
    await idle();

    const g = await world.gatewayMetrics.collect();
    const refused = (routeId: string, reason: string): number =>
      g.value('connectionsRefused', { [ATTR.route]: routeId, [ATTR.reason]: reason });
    expect({
      fenced: refused('fenced', 'allow_list'),
      single: refused('single', 'limit'),
      held2: refused('held2', 'limit'),
      down: refused('down', 'target_refused'),
      nosuch: refused('nosuch', 'unknown_service'),
      nolistener: refused('nolistener', 'no_listener'),
    }).toEqual({ fenced: 1, single: 1, held2: 1, down: 1, nosuch: 1, nolistener: 1 });
    expect(g.value('connectionsRefused')).toBe(6);
    expect(g.matching('connectionsRefused', { [ATTR.route]: 'nolistener' })[0]!.attributes).toMatchObject({
      [ATTR.hybridConnection]: EMPTY,
      [ATTR.service]: 'echo',
    });
    expect(g.value('connectionsAccepted', { [ATTR.route]: 'single' })).toBe(1);

    const f = await world.forwarderMetrics.collect();
    const fRefused = (routeId: string, reason: string): number =>
      f.value('connectionsRefused', {
        [ATTR.route]: routeId,
        [ATTR.reason]: reason,
        [ATTR.location]: LOCATION,
      });
    expect({
      down: fRefused('down', 'target_refused'),
      unknown: fRefused(NO_SERVICE_ROUTE, 'unknown_service'),
      held: fRefused('held', 'limit'),
    }).toEqual({ down: 1, unknown: 1, held: 1 });
    // allow-list, gateway limit and no-listener never reach the forwarder.
    expect(f.value('connectionsRefused')).toBe(3);
    expect(f.value('connectionsAccepted', { [ATTR.route]: 'held' })).toBe(1);
  });

  it('follows listeners, token renewals and expiry, and counts configuration versions', async () => {
    const listener = { [ATTR.hybridConnection]: SITE, [ATTR.location]: LOCATION };
    let f = await world.forwarderMetrics.collect();
    expect(f.value('listenersOnline', listener)).toBe(2);
    const expiryS = f.value('tokenExpiry', listener);
    // Minted from the key with the default one-hour lifetime.
    expect(expiryS).toBeGreaterThan(3000);
    expect(expiryS).toBeLessThanOrEqual(3600);
    expect(f.value('tokenRenewals')).toBe(0);

    // A pre-issued token replaces the key: handed to both live control channels with renewToken, no reconnect.
    const token = world.listenToken(10 * 60_000);
    const expiresAtS = Number(/se=(\d+)/.exec(token)![1]);
    expect(world.forwarder.applyDocument(world.forwarderDocument(services, token)).ok).toBe(true);
    await eventually(
      () => world.forwarder.state().hybridConnections[SITE]!.tokenRenewals === 2,
      'both channels renewed',
      10_000,
    );
    f = await world.forwarderMetrics.collect();
    expect(f.value('tokenRenewals', { ...listener, [ATTR.outcome]: 'success' })).toBe(2);
    expect(f.value('listenerReconnects')).toBe(0);
    const left = f.value('tokenExpiry', listener);
    expect(Math.abs(left - (expiresAtS - Date.now() / 1000))).toBeLessThan(5);
    expect(f.value('listenersOnline', listener)).toBe(2);

    // An invalid document is refused (the running configuration stays) and counted.
    expect(world.forwarder.applyDocument({ schemaVersion: 1, hybridConnections: 'nope' }).ok).toBe(false);
    const g0 = await world.gatewayMetrics.collect();
    expect((await world.gateway.applyDocument({ schemaVersion: 2 })).ok).toBe(false);
    f = await world.forwarderMetrics.collect();
    const g = await world.gatewayMetrics.collect();
    expect({
      applied: f.value('configVersions', { [ATTR.outcome]: 'applied' }),
      refused: f.value('configVersions', { [ATTR.outcome]: 'refused' }),
    }).toEqual({ applied: 2, refused: 1 });
    expect(g.value('configVersions', { [ATTR.outcome]: 'applied' })).toBe(1);
    expect(g.value('configVersions', { [ATTR.outcome]: 'refused' })).toBe(
      g0.value('configVersions', { [ATTR.outcome]: 'refused' }) + 1,
    );
  });

  it('reports multiplexed connections and the streams on them, on both modules', async () => {
    // A route's first clients go one connection per client until its mux connection is accepted: wait for it.
    const first = await connectClient(world.port('echo'));
    first.socket.end();
    await first.ended;
    await idle();
    await eventually(
      () => (world.gateway.state().mux?.[SITE]?.connections ?? 0) >= 1,
      'a mux connection',
      20_000,
    );
    const held = await connectClient(world.port('echo'));
    held.socket.write('x');
    await eventually(() => held.received().length === 1, 'the echo', 10_000);
    await eventually(
      () =>
        world.gateway.state().mux?.[SITE]?.streams === 1 &&
        world.forwarder.state().hybridConnections[SITE]!.mux?.streams === 1,
      'one stream on each side',
      10_000,
    );
    const hc = { [ATTR.hybridConnection]: SITE };
    const g = await world.gatewayMetrics.collect();
    const f = await world.forwarderMetrics.collect();
    expect(g.value('muxConnections', hc)).toBeGreaterThanOrEqual(1);
    expect(g.value('muxStreams', hc)).toBe(1);
    expect(f.value('muxConnections', hc)).toBeGreaterThanOrEqual(1);
    expect(f.value('muxStreams', hc)).toBe(1);
    held.socket.end();
    await held.ended;
    await idle();
    await eventually(
      () => world.forwarder.state().hybridConnections[SITE]!.mux?.streams === 0,
      'the stream gone',
      10_000,
    );
    expect((await world.forwarderMetrics.collect()).value('muxStreams', hc)).toBe(0);
  });
});
