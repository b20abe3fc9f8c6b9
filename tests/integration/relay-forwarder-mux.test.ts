// relay-forwarder serving multiplexed streams (`x-hrf-mux: 1`) through the sandbox relay: each stream is a tunnel
// with the classic rules (service lookup, refusal codes, counters), many share one relay connection.
import { keyTokenProvider } from '../../modules/common/src/hc/token-provider';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { startMuxOpener } from '../../modules/common/src/mux/handshake';
import { muxOfferHeaders } from '../../modules/common/src/mux/negotiate';
import type { MuxSession } from '../../modules/common/src/mux/session';
import type { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import { TunnelError } from '../../modules/common/src/tunnel/errors';
import { errorOf, readAll, writeAll } from '../support/mux-pair';
import { startForwarderWorld, waitOnline, type ForwarderWorld } from '../support/relay-forwarder-harness';
import { patternBytes, sha256, waitFor } from '../support/tunnel-harness';

let world: ForwarderWorld;
let forwarder: Forwarder;

beforeAll(async () => {
  world = await startForwarderWorld(['site-m']);
  forwarder = world.startForwarder({ muxMaxStreams: 64 });
  const applied = forwarder.applyDocument({
    schemaVersion: 1,
    hybridConnections: {
      siteM: {
        connectionString: world.hc('site-m').listenConnectionString,
        listeners: 2,
        services: {
          echo: { target: `127.0.0.1:${world.echo.port}` },
          down: { target: `127.0.0.1:${world.downPort}`, connectTimeoutMs: 5_000 },
          off: { target: `127.0.0.1:${world.echo.port}`, enabled: false },
        },
      },
    },
  });
  expect(applied.ok).toBe(true);
  await waitOnline(forwarder, 'siteM');
});

afterAll(async () => {
  await world.close();
});

async function openMux(): Promise<MuxSession> {
  const k = world.hc('site-m');
  const ws = await connectHybridConnection(
    {
      namespace: world.relay.namespace,
      path: 'site-m',
      tokenProvider: keyTokenProvider(k.sendKey.keyName, k.sendKey.key),
      tls: { ca: world.relay.caPem },
    },
    { headers: muxOfferHeaders(), timeoutMs: 10_000 },
  );
  return startMuxOpener(ws, { maxStreams: 1024 });
}

it('accepts multiplexing with its stream bound and echoes sha256-checked bulk over many streams at once', async () => {
  const session = await openMux();
  expect(session.maxStreams).toBe(64);
  const before = forwarder.state().hybridConnections.siteM!.services.echo!.accepted;
  await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const data = patternBytes(256 * 1024 + i * 1013, 100 + i);
      const stream = session.openStream({
        port: 'echo',
        headers: { 'x-hrf-client': `203.0.113.7:${4000 + i}` },
      });
      await stream.accepted;
      const [echoed] = await Promise.all([readAll(stream), writeAll(stream, data)]);
      expect(sha256(echoed)).toBe(sha256(data));
    }),
  );
  const state = forwarder.state().hybridConnections.siteM!;
  expect(state.services.echo!.accepted - before).toBe(40);
  expect(state.muxConnections).toBeGreaterThanOrEqual(1);
  session.goAway();
});

it('refuses streams with the classic codes, per stream, and the connection carries on', async () => {
  const session = await openMux();
  const refusals = await Promise.all(
    ['nope', 'down', 'off'].map(async (port) => {
      const stream = session.openStream({ port, headers: {} });
      return stream.accepted.then(
        () => 'accepted',
        (err: { code: string }) => err.code,
      );
    }),
  );
  expect(refusals).toEqual(['TUNNEL_UNKNOWN_SERVICE', 'TUNNEL_TARGET_REFUSED', 'TUNNEL_SERVICE_DISABLED']);
  const stream = session.openStream({ port: 'echo', headers: {} });
  await stream.accepted;
  const [echoed] = await Promise.all([readAll(stream), writeAll(stream, Buffer.from('still here'))]);
  expect(echoed.toString()).toBe('still here');
  const refused = forwarder.state().hybridConnections.siteM!;
  expect(refused.refused['unknown-service']).toBeGreaterThanOrEqual(1);
  expect(refused.services.down!.refused.refused).toBeGreaterThanOrEqual(1);
  session.goAway();
});

it('resets every stream when the gateway side loses the connection, and releases every target connection', async () => {
  const session = await openMux();
  const streams = Array.from({ length: 20 }, () => session.openStream({ port: 'echo', headers: {} }));
  await Promise.all(streams.map((s) => s.accepted));
  await waitFor(
    () => forwarder.state().hybridConnections.siteM!.services.echo!.active === 20,
    '20 tunnels',
    10_000,
  );
  const errors = Promise.all(streams.map(errorOf));
  session.abort(new TunnelError('TUNNEL_ABORTED', 'gateway gone', false, 1001));
  for (const err of await errors) expect(err).toMatchObject({ code: 'TUNNEL_ABORTED' });
  await waitFor(
    () => forwarder.state().hybridConnections.siteM!.services.echo!.active === 0,
    'forwarder released the tunnels',
    10_000,
  );
  await waitFor(() => world.echo.sockets.size === 0, 'target connections closed', 10_000);
});

it('reports open mux connections and their streams, and takes its stream bound from the configuration', async () => {
  const session = await openMux();
  const streams = Array.from({ length: 5 }, () => session.openStream({ port: 'echo', headers: {} }));
  await Promise.all(streams.map((s) => s.accepted));
  await waitFor(
    () => (forwarder.state().hybridConnections.siteM!.mux?.streams ?? 0) >= 5,
    'five streams reported',
    10_000,
  );
  const state = forwarder.state().hybridConnections.siteM!;
  expect(state.mux).toMatchObject({ maxStreams: 64 });
  expect(state.mux!.connections).toBeGreaterThanOrEqual(1);
  for (const stream of streams) stream.end();
  await Promise.all(streams.map((s) => readAll(s)));
  session.goAway();

  // The bound from the configuration file or twin: mux connections opened after the change get it.
  const document = (muxMaxStreams: number) => ({
    schemaVersion: 1 as const,
    hybridConnections: {
      siteM: {
        connectionString: world.hc('site-m').listenConnectionString,
        listeners: 2,
        muxMaxStreams,
        services: { echo: { target: `127.0.0.1:${world.echo.port}` } },
      },
    },
  });
  expect(forwarder.applyDocument(document(3)).ok).toBe(true);
  const bounded = await openMux();
  expect(bounded.maxStreams).toBe(3);
  expect(forwarder.state().hybridConnections.siteM!.mux!.maxStreams).toBe(3);
  bounded.goAway();

  // 0 refuses multiplexing: the forwarder takes the connection for a classic one and waits for a preamble.
  expect(forwarder.applyDocument(document(0)).ok).toBe(true);
  const k = world.hc('site-m');
  const ws = await connectHybridConnection(
    {
      namespace: world.relay.namespace,
      path: 'site-m',
      tokenProvider: keyTokenProvider(k.sendKey.keyName, k.sendKey.key),
      tls: { ca: world.relay.caPem },
    },
    { headers: muxOfferHeaders(), timeoutMs: 10_000 },
  );
  await expect(startMuxOpener(ws, { maxStreams: 1024, acceptTimeoutMs: 2_000 })).rejects.toMatchObject({
    code: 'TUNNEL_HANDSHAKE_TIMEOUT',
  });
});
