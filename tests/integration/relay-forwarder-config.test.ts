// relay-forwarder configuration changes against the sandbox relay over TLS: only what differs changes.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  duplexClosed,
  handWrittenPreamble,
  openLibraryTunnel,
  openRawSender,
  startForwarderWorld,
  waitOnline,
  type ForwarderWorld,
} from '../support/relay-forwarder-harness';
import { patternBytes, sha256, startTcpServer, waitFor, type TestTcpServer } from '../support/tunnel-harness';

describe('relay-forwarder configuration changes (sandbox relay, TLS)', () => {
  let world: ForwarderWorld;
  let other: TestTcpServer;

  beforeAll(async () => {
    world = await startForwarderWorld(['site-a', 'site-b', 'site-c', 'site-d']);
    // A second target that says who it is, so a changed service target can be told apart from the old one.
    other = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('other target\n');
    });
  });

  afterAll(async () => {
    await world.close();
    await other.close();
  });

  function document(
    hybridConnections: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return { schemaVersion: 1, hybridConnections, ...extra };
  }

  it('hands a renewed SAS token to the live control channels without a reconnect', async () => {
    const forwarder = world.startForwarder();
    const ns = world.relay.namespace;
    // Long enough that the listeners' own renewal schedule (80% of the lifetime) cannot fire during the test:
    // every renewal the relay sees comes from the configuration change.
    const shortToken = world.listenToken('site-c', 120_000);
    const apply = (sasToken: string) =>
      forwarder.applyDocument(
        document({
          siteC: {
            namespace: ns,
            sasToken,
            listeners: 2,
            services: { echo: { target: `127.0.0.1:${world.echo.port}` } },
          },
        }),
      );
    expect(apply(shortToken).ok).toBe(true);
    await waitOnline(forwarder, 'siteC');
    const relayBefore = world.relay.stats().counters;
    const before = forwarder.state().hybridConnections.siteC;
    expect(before.reconnects).toBe(0);

    const longToken = world.listenToken('site-c', 3_600_000);
    const applied = apply(longToken);
    expect(applied.ok && applied.diff.changed[0]).toMatchObject({
      credentialChanged: true,
      endpointChanged: false,
    });
    await waitFor(
      () => world.relay.stats().counters.tokenRenewals >= relayBefore.tokenRenewals + 2,
      'both channels renewed at the relay',
    );
    const after = forwarder.state().hybridConnections.siteC;
    const relayAfter = world.relay.stats().counters;
    expect(after.reconnects).toBe(0);
    expect(after.onlineListeners).toBe(2);
    expect(after.tokenRenewals).toBe(2);
    expect(after.tokenExpiresAtMs).toBeGreaterThan(Date.now() + 3_000_000);
    expect(relayAfter.listenersAccepted).toBe(relayBefore.listenersAccepted);
    expect(relayAfter.tokenExpiryCloses).toBe(relayBefore.tokenExpiryCloses);
    expect(relayAfter.tokenRenewalsRefused).toBe(relayBefore.tokenRenewalsRefused);

    const sender = await openRawSender(world, 'site-c');
    sender.ws.send(Buffer.concat([handWrittenPreamble('echo'), Buffer.from('after renewal')]));
    expect((await sender.waitForBytes(16)).toString('latin1', 3)).toBe('after renewal');
    sender.ws.close(1000);
    await sender.closed;
    await forwarder.stop(0);
  });

  it('hands a rotated key to the live control channels without a reconnect', async () => {
    const forwarder = world.startForwarder();
    const echo = { target: `127.0.0.1:${world.echo.port}` };
    const apply = (connectionString: string) =>
      forwarder.applyDocument(document({ siteD: { connectionString, listeners: 2, services: { echo } } }));
    expect(apply(world.hc('site-d').listenConnectionString).ok).toBe(true);
    await waitOnline(forwarder, 'siteD');
    const relayBefore = world.relay.stats().counters;

    // The old key stops working for new handshakes; the live channels must move to the new one in place.
    const rotated = world.relay.regenerateKey('site-d', 'listen', 'PrimaryKey');
    const applied = apply(rotated.primaryConnectionString);
    expect(applied.ok && applied.diff.changed[0]).toMatchObject({
      credentialChanged: true,
      endpointChanged: false,
    });
    await waitFor(
      () => world.relay.stats().counters.tokenRenewals >= relayBefore.tokenRenewals + 2,
      'both channels renewed with the new key',
    );
    const relayAfter = world.relay.stats().counters;
    expect(relayAfter.tokenRenewalsRefused).toBe(relayBefore.tokenRenewalsRefused);
    expect(relayAfter.listenersAccepted).toBe(relayBefore.listenersAccepted);
    expect(forwarder.state().hybridConnections.siteD).toMatchObject({ reconnects: 0, onlineListeners: 2 });
    await forwarder.stop(0);
  });

  it('reopens the control channels on a new path while tunnels on the old one keep running, and closes surplus channels', async () => {
    const forwarder = world.startForwarder();
    const echo = { target: `127.0.0.1:${world.echo.port}` };
    const apply = (connectionString: string, listeners: number) =>
      forwarder.applyDocument(document({ moving: { connectionString, listeners, services: { echo } } }));
    expect(apply(world.hc('site-a').listenConnectionString, 3).ok).toBe(true);
    await waitOnline(forwarder, 'moving');
    const kept = [...forwarder.runtime('moving')!.controlChannels];

    // Fewer channels: two close, the rest stay as they are.
    expect(apply(world.hc('site-a').listenConnectionString, 1).ok).toBe(true);
    const remaining = forwarder.runtime('moving')!.controlChannels;
    expect(remaining).toHaveLength(1);
    expect(kept).toContain(remaining[0]);
    await waitFor(() => world.relay.stats().listenersByPath['site-a'] === 1, 'one channel left at the relay');
    expect(forwarder.state().hybridConnections.moving.reconnects).toBe(0);

    const onOldPath = await openLibraryTunnel(world, 'site-a', 'echo');
    const applied = apply(world.hc('site-b').listenConnectionString, 2);
    expect(applied.ok && applied.diff.changed[0]).toMatchObject({ endpointChanged: true });
    await waitOnline(forwarder, 'moving');
    await waitFor(() => (world.relay.stats().listenersByPath['site-a'] ?? 0) === 0, 'old path released');
    expect(forwarder.state().hybridConnections.moving).toMatchObject({ path: 'site-b', onlineListeners: 2 });

    const viaNewPath = await openRawSender(world, 'site-b');
    viaNewPath.ws.send(Buffer.concat([handWrittenPreamble('echo'), Buffer.from('new')]));
    expect((await viaNewPath.waitForBytes(6)).toString('latin1', 3)).toBe('new');
    viaNewPath.ws.close(1000);
    await viaNewPath.closed;

    onOldPath.write('old path still carries bytes');
    const [chunk] = (await once(onOldPath, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('old path still carries bytes');
    const closed = duplexClosed(onOldPath);
    onOldPath.end();
    await closed;
    await forwarder.stop(0);
  });

  it('keeps a transfer on an untouched service intact while other services, hybrid connections and listener counts change', async () => {
    const forwarder = world.startForwarder();
    const siteA = world.hc('site-a').listenConnectionString;
    const siteB = world.hc('site-b').listenConnectionString;
    const echoTarget = `127.0.0.1:${world.echo.port}`;
    const initial = document({
      siteA: {
        connectionString: siteA,
        listeners: 2,
        services: { bulk: { target: echoTarget }, web: { target: echoTarget }, gone: { target: echoTarget } },
      },
    });
    expect(forwarder.applyDocument(initial).ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
    const channelsBefore = [...forwarder.runtime('siteA')!.controlChannels];

    // A 24 MiB round trip through the echo target, written in slices so the changes land mid-transfer.
    const payload = patternBytes(24 * 1024 * 1024, 42);
    const tunnel = await openLibraryTunnel(world, 'site-a', 'bulk');
    const digest = createHash('sha256');
    let receivedBytes = 0;
    tunnel.on('data', (chunk: Buffer) => {
      digest.update(chunk);
      receivedBytes += chunk.length;
    });
    const ended = once(tunnel, 'end');
    const sliceBytes = 256 * 1024;
    let sent = 0;
    const writeSome = async (bytes: number): Promise<void> => {
      const stop = Math.min(payload.length, sent + bytes);
      while (sent < stop) {
        const slice = payload.subarray(sent, Math.min(stop, sent + sliceBytes));
        sent += slice.length;
        if (!tunnel.write(slice)) await once(tunnel, 'drain');
      }
    };
    await writeSome(8 * 1024 * 1024);
    await waitFor(() => receivedBytes > 1024 * 1024, 'bytes flowing back');

    const changed = forwarder.applyDocument(
      document({
        siteA: {
          connectionString: siteA,
          listeners: 3,
          services: {
            bulk: { target: echoTarget },
            web: { target: `127.0.0.1:${other.port}` },
            api: { target: echoTarget },
          },
        },
        siteB: { connectionString: siteB, listeners: 1, services: { echo: { target: echoTarget } } },
      }),
    );
    expect(changed.ok).toBe(true);
    if (!changed.ok) return;
    expect(changed.diff.added.map((hc) => hc.name)).toEqual(['siteB']);
    expect(changed.diff.changed[0].services).toEqual({
      added: ['api'],
      removed: ['gone'],
      changed: ['web'],
      disabled: [],
    });

    await writeSome(8 * 1024 * 1024);
    await waitOnline(forwarder, 'siteA');
    await waitOnline(forwarder, 'siteB');
    // The changed target serves new connections; the removed service is unknown now; the new one works.
    const web = await openLibraryTunnel(world, 'site-a', 'web');
    web.end();
    const webChunks: Buffer[] = [];
    web.on('data', (c: Buffer) => webChunks.push(c));
    await once(web, 'end');
    expect(Buffer.concat(webChunks).toString()).toBe('other target\n');
    const gone = await openRawSender(world, 'site-a');
    gone.ws.send(handWrittenPreamble('gone'));
    expect((await gone.closed).code).toBe(4404);
    const viaB = await openRawSender(world, 'site-b');
    viaB.ws.send(Buffer.concat([handWrittenPreamble('echo'), Buffer.from('b')]));
    expect((await viaB.waitForBytes(4)).toString('latin1', 3)).toBe('b');
    viaB.ws.close(1000);

    await writeSome(payload.length);
    tunnel.end();
    await ended;
    expect(receivedBytes).toBe(payload.length);
    expect(digest.digest('hex')).toBe(sha256(payload));
    // The two original control channels were kept; one was added.
    const channelsAfter = forwarder.runtime('siteA')!.controlChannels;
    expect(channelsAfter).toHaveLength(3);
    for (const channel of channelsBefore) expect(channelsAfter).toContain(channel);
    expect(forwarder.state().hybridConnections.siteA.reconnects).toBe(0);
    await waitFor(() => world.relay.stats().listenersByPath['site-a'] === 3, 'three channels at the relay');
    await viaB.closed;
    await forwarder.stop(0);
  });

  it('closes the control channels of a removed hybrid connection and drains its tunnels within the drain time', async () => {
    const forwarder = world.startForwarder();
    const echoTarget = `127.0.0.1:${world.echo.port}`;
    const both = document(
      {
        siteA: {
          connectionString: world.hc('site-a').listenConnectionString,
          listeners: 1,
          services: { echo: { target: echoTarget } },
        },
        siteB: {
          connectionString: world.hc('site-b').listenConnectionString,
          listeners: 2,
          services: { echo: { target: echoTarget } },
        },
      },
      { drainTimeoutMs: 300 },
    );
    expect(forwarder.applyDocument(both).ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
    await waitOnline(forwarder, 'siteB');
    const onB = await openLibraryTunnel(world, 'site-b', 'echo');
    const onA = await openLibraryTunnel(world, 'site-a', 'echo');
    const onBClosed = duplexClosed(onB);
    onB.resume();

    const { siteB: _removed, ...onlyA } = both.hybridConnections as Record<string, unknown>;
    const applied = forwarder.applyDocument(document(onlyA, { drainTimeoutMs: 300 }));
    expect(applied.ok && applied.diff.removed.map((hc) => hc.name)).toEqual(['siteB']);
    expect(forwarder.state().hybridConnections.siteB).toBeUndefined();
    expect(forwarder.state().drainingTunnels).toBe(1);

    // The idle tunnel outlives no drain deadline: it is aborted with 1001 (going away).
    const error = await onBClosed;
    expect(error).toMatchObject({ closeCode: 1001 });
    await waitFor(() => forwarder.state().drainingTunnels === 0, 'drain finished');
    await waitFor(() => (world.relay.stats().listenersByPath['site-b'] ?? 0) === 0, 'site-b channels closed');

    // The untouched hybrid connection's tunnel still works.
    onA.write('still here');
    const [chunk] = (await once(onA, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('still here');
    const onAClosed = duplexClosed(onA);
    onA.end();
    await onAClosed;
    await forwarder.stop(0);
  });

  it('drains the tunnels of a removed service but lets them finish on their own first', async () => {
    const forwarder = world.startForwarder();
    const echoTarget = `127.0.0.1:${world.echo.port}`;
    const cs = world.hc('site-a').listenConnectionString;
    const apply = (services: Record<string, unknown>) =>
      forwarder.applyDocument(
        document({ siteA: { connectionString: cs, listeners: 1, services } }, { drainTimeoutMs: 20_000 }),
      );
    expect(apply({ echo: { target: echoTarget }, keep: { target: echoTarget } }).ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
    const tunnel = await openLibraryTunnel(world, 'site-a', 'echo');
    expect(apply({ keep: { target: echoTarget } }).ok).toBe(true);
    expect(forwarder.state().hybridConnections.siteA.drainingTunnels).toBe(1);
    // Within the (long) drain time the tunnel keeps working and ends cleanly when its client is done.
    const received: Buffer[] = [];
    tunnel.on('data', (c: Buffer) => received.push(c));
    tunnel.end('last words');
    await once(tunnel, 'end');
    expect(Buffer.concat(received).toString()).toBe('last words');
    await waitFor(() => forwarder.state().hybridConnections.siteA.drainingTunnels === 0, 'tunnel finished');
    await forwarder.stop(0);
  });

  it('refuses an invalid document with every problem and keeps the running configuration', async () => {
    const forwarder = world.startForwarder();
    const echoTarget = `127.0.0.1:${world.echo.port}`;
    const good = document({
      siteA: {
        connectionString: world.hc('site-a').listenConnectionString,
        listeners: 1,
        services: { echo: { target: echoTarget } },
      },
    });
    expect(forwarder.applyDocument(good).ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
    const rejected: unknown[] = [];
    forwarder.on('configRejected', (problems) => rejected.push(problems));

    const bad = forwarder.applyDocument(
      document({
        siteA: {
          connectionString: 'Endpoint=sb://x/',
          listeners: 99,
          services: { echo: { target: 'nope' } },
        },
      }),
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((p) => p.path)).toEqual([
      '/hybridConnections/siteA/connectionString',
      '/hybridConnections/siteA/listeners',
      '/hybridConnections/siteA/services/echo/target',
    ]);
    expect(rejected).toHaveLength(1);
    expect(forwarder.config?.hybridConnections.get('siteA')?.listeners).toBe(1);

    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(Buffer.concat([handWrittenPreamble('echo'), Buffer.from('ok')]));
    expect((await sender.waitForBytes(5)).toString('latin1', 3)).toBe('ok');
    sender.ws.close(1000);
    await sender.closed;
    await forwarder.stop(0);
  });
});
