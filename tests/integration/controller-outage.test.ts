// The token fuse, survived: with every controller replica down for longer than the tokens' old life, the fleet
// keeps working on the tokens already written, because the controller renews them while a whole renewal margin
// is left. On a scaled clock (× SCALE below): "old" = 8 s tokens renewed at half-life (the former 4 h / 0.5 default),
// "new" = 24 s tokens renewed with 18 s left (the 48 h / 36 h default's shape). The controller is stopped just
// before its tokens fall due (the worst moment) for 12 s, longer than the old tokens' whole life. With the new settings a
// long-lived tunnel carries sha256-verified traffic through the outage, no listener is closed for an expired token,
// new connections keep working and the status view flags the tokens as within the margin; with the old ones the
// relay closes the listeners (1008) and a new connection fails: the test would catch a return to a short margin.
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import pino from 'pino';
import { parseSasToken } from '../../modules/common/src/hc/sas';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { JsonObject } from '../../cloud/src/model/json';
import { startStatusServer, type StatusServer } from '../../cloud/src/status';
import {
  DEFAULT_POOL,
  freePortRange,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import {
  connectWhenListening,
  roundTrip,
  startTwinForwarder,
  startTwinGateway,
} from '../support/controller-modules';
import { startEchoTarget } from '../support/e2e-targets';
import { waitFor, type TestTcpServer } from '../support/tunnel-harness';

// The clock is scaled up so that a loaded machine's set-up delays (twins, listeners, the first port) stay well
// inside the windows the test relies on ("just before renewal" is 4.5 scaled seconds after the first write).
const SCALE = 2.5;
const scaled = (ms: number): number => ms * SCALE;
const OUTAGE_MS = scaled(12_000);

describe('a controller outage longer than the old token life', () => {
  let world: ControllerWorld;
  let echo: TestTcpServer;
  const apps: (ForwarderTwinApp | GatewayTwinApp)[] = [];
  const sockets: net.Socket[] = [];
  let status: StatusServer | undefined;

  beforeAll(async () => {
    world = await startControllerWorld();
    echo = await startEchoTarget();
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await status?.close();
    for (const app of apps) if ('hurry' in app) app.hurry();
    await Promise.all(apps.map((a) => a.stop(0)));
    await world.close();
    await echo.close();
  });

  /** A location and a gateway in their own pool, the modules running from their twins, the controller started. */
  async function site(name: string, tokens: { tokenLifetimeMs: number; tokenRenewMarginMs: number }) {
    const firstPort = await freePortRange(1);
    const pool = { name, firstPort, lastPort: firstPort, allow: ['127.0.0.0/8'], bindAddress: '127.0.0.1' };
    await world.addGateway(`gw-${name}`, name);
    await world.addLocation(name, { echo: `127.0.0.1:${echo.port}` }, { pool: name });
    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    const forwarder = startTwinForwarder(world, name, log);
    apps.push(forwarder);
    const gateway = await startTwinGateway(world, `gw-${name}`, log);
    apps.push(gateway);
    const controller = world.startController(
      { pools: [DEFAULT_POOL, pool], ...tokens },
      { start: true, intervalMs: 60_000 },
    );
    await waitFor(() => controller.controller.lastResult !== undefined, 'the first reconcile', 30_000);
    const hc = `hrf-${name}`;
    await waitFor(
      () => forwarder.forwarder.state().hybridConnections[hc]?.onlineListeners === 2,
      'forwarder listeners online',
      30_000,
    );
    const doc = (await world.desired(name, 'relay-forwarder')).hybridConnections as Record<
      string,
      JsonObject
    >;
    const expiresAtMs = parseSasToken(doc[hc]!.sasToken as string).expiresAtSec * 1000;
    return { port: firstPort, controller, forwarder, hc, expiresAtMs };
  }

  it('new settings: no tunnel lost, new connections keep working, the status view warns', async () => {
    const lifetime = scaled(24_000);
    const margin = scaled(18_000);
    const s = await site('fuse-new', { tokenLifetimeMs: lifetime, tokenRenewMarginMs: margin });
    status = await startStatusServer({
      registry: world.registry,
      port: 0,
      pollIntervalMs: 60_000,
      tokenWarnBelowMs: margin,
      logger: pino({ level: 'silent' }),
    });
    const long = await connectWhenListening(s.port, 30_000);
    sockets.push(long);
    const stream = streamThrough(long);

    // Stop the only replica just before the tokens fall due: the least headroom the settings can leave.
    await waitFor(
      () => Date.now() >= s.expiresAtMs - margin - scaled(1_500),
      'just before renewal',
      scaled(15_000),
    );
    await s.controller.stop();
    const relayBefore = world.relay.stats().counters;
    const outageStarted = Date.now();
    const firstDoc = await world.desired('fuse-new', 'relay-forwarder');

    // Mid-outage: tokens are within the margin and the status view (reading the forwarder's report) says so.
    await waitFor(
      () => Date.now() >= s.expiresAtMs - margin + scaled(1_000),
      'the tokens to fall due',
      scaled(15_000),
    );
    const doc = await status.refresh();
    const view = doc.snapshot!.locations.find((l) => l.id === 'fuse-new')!;
    expect(view.tokenExpiring).toBe(true);
    expect(doc.snapshot!.totals.tokensExpiring).toBeGreaterThanOrEqual(1);

    await waitFor(() => Date.now() >= outageStarted + OUTAGE_MS, 'the outage to last', OUTAGE_MS + 5_000);
    // Nothing renewed the tokens: the twins still hold the ones written before the outage.
    expect(await world.desired('fuse-new', 'relay-forwarder')).toEqual(firstDoc);
    expect(Date.now()).toBeGreaterThan(outageStarted + scaled(8_000)); // longer than the old tokens' whole life
    const fresh = await connectWhenListening(s.port, 30_000);
    sockets.push(fresh);
    expect(await roundTrip(fresh, 'after the outage')).toBe('after the outage');
    const { sent, received } = await stream.finish();
    expect(received).toBe(sent);
    const relayAfter = world.relay.stats().counters;
    expect(relayAfter.tokenExpiryCloses).toBe(relayBefore.tokenExpiryCloses);
    expect(relayAfter.listenersAccepted).toBe(relayBefore.listenersAccepted);
    expect(s.forwarder.forwarder.state().hybridConnections[s.hc]!.reconnects).toBe(0);
    console.log(
      `fuse (lifetime ${lifetime / 1000} s, margin ${margin / 1000} s): controller down ${Math.round(
        (Date.now() - outageStarted) / 1000,
      )} s; tunnels lost 0, listener expiry closes 0, long tunnel sha256 ok`,
    );
  }, 240_000);

  it('old settings (half-life): the same outage closes the listeners and refuses new connections', async () => {
    const s = await site('fuse-old', { tokenLifetimeMs: scaled(8_000), tokenRenewMarginMs: scaled(4_000) });
    await waitFor(
      () => Date.now() >= s.expiresAtMs - scaled(4_000) - scaled(1_500),
      'just before renewal',
      scaled(15_000),
    );
    await s.controller.stop();
    const relayBefore = world.relay.stats().counters;
    const outageStarted = Date.now();
    await waitFor(() => Date.now() >= outageStarted + OUTAGE_MS, 'the outage to last', OUTAGE_MS + 5_000);
    expect(world.relay.stats().counters.tokenExpiryCloses).toBeGreaterThan(relayBefore.tokenExpiryCloses);
    const fresh = await connectWhenListening(s.port, 30_000);
    sockets.push(fresh);
    await expect(roundTrip(fresh, 'lost', 5_000)).rejects.toThrow();
  }, 240_000);
});

/** Writes a 16 KiB random chunk every 100 ms until finished; resolves with the sha256 of what went and came back. */
function streamThrough(socket: net.Socket) {
  const out = createHash('sha256');
  const back = createHash('sha256');
  let sentBytes = 0;
  let receivedBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    back.update(chunk);
    receivedBytes += chunk.length;
  });
  const timer = setInterval(() => {
    const chunk = randomBytes(16 * 1024);
    out.update(chunk);
    sentBytes += chunk.length;
    socket.write(chunk);
  }, 100);
  return {
    async finish(): Promise<{ sent: string; received: string }> {
      clearInterval(timer);
      await waitFor(() => receivedBytes >= sentBytes || socket.destroyed, 'the echo to catch up', 15_000);
      expect(socket.destroyed).toBe(false);
      expect(receivedBytes).toBe(sentBytes);
      return { sent: out.digest('hex'), received: back.digest('hex') };
    },
  };
}
