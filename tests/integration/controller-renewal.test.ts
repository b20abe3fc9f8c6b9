// Token renewal end to end: the controller issues short-lived tokens and rewrites them at half-life; the
// twin-configured relay-forwarder and relay-gateway (unmodified device SDK over MQTT to the sandbox IoT Hub) apply
// the new documents, and a TCP connection opened through gateway → relay → forwarder before the renewal keeps
// working past the first token's expiry, with no listener reconnect.
import * as net from 'node:net';
import pino from 'pino';
import { parseSasToken } from '../../modules/common/src/hc/sas';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { JsonObject } from '../../cloud/src/model/json';
import type { ReconcileResult } from '../../cloud/src/reconcile/reconcile';
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

// Long enough that the modules apply the renewed documents well before the first tokens expire, even on a busy CI machine.
const LIFETIME_MS = 8_000;
const HC = 'hrf-live-site';

describe('fleet controller token renewal with twin-configured modules', () => {
  let world: ControllerWorld;
  let echo: TestTcpServer;
  let forwarder: ForwarderTwinApp | undefined;
  let gateway: GatewayTwinApp | undefined;
  let client: net.Socket | undefined;

  beforeAll(async () => {
    world = await startControllerWorld();
    echo = await startEchoTarget();
  });

  afterAll(async () => {
    client?.destroy();
    gateway?.hurry();
    await Promise.all([gateway?.stop(0), forwarder?.stop(0)]);
    await world.close();
    await echo.close();
  });

  it('replaces tokens before they expire and the live connection and listeners carry on', async () => {
    const firstPort = await freePortRange(2);
    const pool = {
      name: 'live',
      firstPort,
      lastPort: firstPort + 1,
      allow: ['127.0.0.0/8'],
      bindAddress: '127.0.0.1',
    };
    await world.addGateway('gw-live', 'live');
    await world.addLocation('live-site', { echo: `127.0.0.1:${echo.port}` }, { pool: 'live' });

    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    forwarder = startTwinForwarder(world, 'live-site', log);
    gateway = await startTwinGateway(world, 'gw-live', log);

    const results: ReconcileResult[] = [];
    const controller = world.startController(
      { pools: [DEFAULT_POOL, pool], tokenLifetimeMs: LIFETIME_MS },
      { start: true, intervalMs: 60_000 },
    );
    controller.controller.on('reconciled', (r) => results.push(r));
    await waitFor(() => results.length >= 1, 'the first reconcile', 10_000);
    expect(results[0]).toMatchObject({ outcome: 'converged' });
    const first = (await world.desired('live-site', 'relay-forwarder')).hybridConnections as Record<
      string,
      JsonObject
    >;
    const firstExpiryMs = parseSasToken(first[HC]!.sasToken as string).expiresAtSec * 1000;
    expect(firstExpiryMs - Date.now()).toBeLessThanOrEqual(LIFETIME_MS);

    // A client connection through the gateway's allocated port, the relay and the forwarder to the echo server.
    const fwdApp = forwarder;
    await waitFor(
      () => fwdApp.forwarder.state().hybridConnections[HC]?.onlineListeners === 2,
      'forwarder listeners online',
      10_000,
    );
    client = await connectWhenListening(firstPort);
    expect(await roundTrip(client, 'before renewal')).toBe('before renewal');
    const relayBefore = world.relay.stats().counters;

    // The controller wakes up by itself when the tokens fall due (half the lifetime), not at its 60 s interval.
    await waitFor(
      () => results.some((r) => r.actionsDone > 0 && r !== results[0]),
      'a renewal reconcile',
      10_000,
    );
    const renewed = (await world.desired('live-site', 'relay-forwarder')).hybridConnections as Record<
      string,
      JsonObject
    >;
    expect(parseSasToken(renewed[HC]!.sasToken as string).expiresAtSec * 1000).toBeGreaterThan(firstExpiryMs);
    const gwDoc = (await world.desired('gw-live', 'relay-gateway')).hybridConnections as Record<
      string,
      JsonObject
    >;
    expect(parseSasToken(gwDoc[HC]!.sasToken as string).expiresAtSec * 1000).toBeGreaterThan(firstExpiryMs);

    // Past the first token's expiry: the relay would have closed any listener still holding it (1008).
    await waitFor(() => Date.now() > firstExpiryMs + 500, 'the first token to expire', 10_000);
    expect(await roundTrip(client, 'after renewal')).toBe('after renewal');
    const state = fwdApp.forwarder.state().hybridConnections[HC]!;
    expect(state.reconnects).toBe(0);
    expect(state.onlineListeners).toBe(2);
    expect(state.tokenExpiresAtMs).toBeGreaterThan(firstExpiryMs);
    const relayAfter = world.relay.stats().counters;
    expect(relayAfter.tokenRenewals).toBeGreaterThanOrEqual(relayBefore.tokenRenewals + 2);
    expect(relayAfter.tokenExpiryCloses).toBe(relayBefore.tokenExpiryCloses);
    expect(relayAfter.listenersAccepted).toBe(relayBefore.listenersAccepted);
    // A new connection works with the renewed Send token too.
    const second = await connectWhenListening(firstPort);
    expect(await roundTrip(second, 'new connection')).toBe('new connection');
    second.destroy();
    await controller.stop();
  }, 30_000);
});
