// Losing IoT Hub never stops forwarding: traffic keeps flowing on the last configuration, the module reconnects
// by itself and re-reads its whole twin, so a desired patch made while it was away is applied.
import type { AppliedEvent } from '../../modules/common/src/twin/twin-runner';
import {
  echoOnce,
  FORWARDER,
  forwarderDesired,
  freePorts,
  GATEWAY,
  gatewayDesired,
  route,
  startTwinWorld,
  waitForTraffic,
  type TwinWorld,
} from '../support/twin-world';

/** Reported properties read as plain JSON (tests index into them freely). */
type Reported = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('twin-configured modules without IoT Hub', () => {
  let world: TwinWorld;

  beforeEach(async () => {
    world = await startTwinWorld();
  });
  afterEach(() => world?.close());

  it('IoT Hub stopped: traffic still flows; IoT Hub back: a patch made meanwhile is applied', async () => {
    const [p0, p1] = (await freePorts(2)) as [number, number];
    await world.patchDesired(FORWARDER, forwarderDesired(world, { echo: world.echo.port }));
    await world.patchDesired(GATEWAY, gatewayDesired(world, { r0: route(p0, 'echo') }));
    const forwarder = world.startForwarder();
    // The gateway reaches the hub through a link the test can hold shut while the hub comes back, so the
    // patch below is made before the gateway can possibly have reconnected.
    const link = await world.openLink();
    const gateway = await world.startGateway({ link });
    await waitForTraffic(p0);
    await world.waitSubscribed(GATEWAY);
    const applied: AppliedEvent[] = [];
    gateway.runner.on('applied', (event) => applied.push(event));

    await world.stopHub();
    link.cut();
    // Both modules notice, and keep forwarding on their last configuration.
    await waitUntil(
      () => !gateway.runner.connection.stats().connected && !forwarder.runner.connection.stats().connected,
    );
    for (let i = 0; i < 10; i++) expect(await echoOnce(p0, `during-outage-${i}`)).toBe(true);
    await waitUntil(() => gateway.runner.connection.stats().failedAttempts >= 2);
    expect(await echoOnce(p0)).toBe(true);

    // IoT Hub is back (same port, same state); the forwarder reconnects on its own.
    await world.startHub();
    await world.patchDesired(GATEWAY, { routes: { r1: route(p1, 'echo') } });
    await world.waitSubscribed(FORWARDER);
    expect(await echoOnce(p1)).toBe(false);
    expect(applied).toEqual([]);

    link.restore();
    await waitForTraffic(p1, 10_000);
    expect(await echoOnce(p0)).toBe(true);
    const { desired } = await world.moduleTwin(GATEWAY);
    expect(applied).toEqual([expect.objectContaining({ version: desired.$version, cause: 'connect' })]);
    await world.waitReported(
      GATEWAY,
      (r: Reported) => r.config?.version === desired.$version && r.routes?.r1?.status === 'listening',
      'the new version reported',
    );
    expect(gateway.runner.connection.stats().sessions).toBe(2);
    expect(forwarder.runner.connection.stats().sessions).toBe(2);
  });

  it('a patch made while the module cannot reach IoT Hub is applied when it reconnects (full re-read)', async () => {
    const [p0, p1] = (await freePorts(2)) as [number, number];
    await world.patchDesired(FORWARDER, forwarderDesired(world, { echo: world.echo.port }));
    await world.patchDesired(GATEWAY, gatewayDesired(world, { r0: route(p0, 'echo') }));
    world.startForwarder();
    const link = await world.openLink();
    const gateway = await world.startGateway({ link });
    await waitForTraffic(p0);
    const applied: AppliedEvent[] = [];
    gateway.runner.on('applied', (event) => applied.push(event));

    link.cut();
    await waitUntil(() => !gateway.runner.connection.stats().connected);
    // The hub takes the patch; the module cannot hear of it.
    await world.patchDesired(GATEWAY, { routes: { r1: route(p1, 'echo'), r0: { maxConnections: 10 } } });
    for (let i = 0; i < 5; i++) expect(await echoOnce(p0, `partitioned-${i}`)).toBe(true);
    expect(await echoOnce(p1)).toBe(false);
    expect(applied).toEqual([]);

    link.restore();
    await waitForTraffic(p1, 10_000);
    const { desired } = await world.moduleTwin(GATEWAY);
    expect(applied).toEqual([expect.objectContaining({ version: desired.$version, cause: 'connect' })]);
    expect(gateway.gateway.currentConfig.routes.get('r0')?.maxConnections).toBe(10);
    expect(await echoOnce(p0)).toBe(true);
    await world.waitReported(
      GATEWAY,
      (r: Reported) => r.config?.version === desired.$version && r.routes?.r1?.status === 'listening',
      'the version applied after reconnecting',
    );
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
