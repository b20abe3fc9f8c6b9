import { Client as DeviceClient, ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createIotHubServiceClients, startSandboxIotHub } from '../../sandbox/src/iothub';
import { eventually, Harness, nextEvent } from '../support/sandbox-iothub-helpers';

const DESIRED_FILTER = '$iothub/twin/PATCH/properties/desired/#';

// The hub keeps identities, twins, configurations and MQTT sessions in its state directory.
describe('sandbox IoT Hub: restart', () => {
  const h = new Harness();
  afterAll(() => h.cleanup());

  it('keeps its state across a restart, on the same port, and a connected device carries on', async () => {
    const stateDir = await h.tempDir();
    const first = await startSandboxIotHub({ stateDir });
    let firstStopped = false;
    h.defer(async () => (firstStopped ? undefined : first.stop()));
    const service = createIotHubServiceClients(first.ownerConnectionString, { ca: first.caPem });
    h.defer(async () => service.close());
    await service.registry.create({ deviceId: 'r-dev' });
    await service.registry.updateTwin(
      'r-dev',
      { tags: { site: 'r' }, properties: { desired: { a: 1 } } },
      '*',
    );
    await service.registry.addConfiguration({
      id: 'r-conf',
      schemaVersion: '1.0',
      priority: 1,
      targetCondition: "tags.site = 'r'",
      content: { modulesContent: { fwd: { 'properties.desired': { from: 'deployment' } } } },
    });

    // A device on the SDK's default retry policy, listening for desired patches.
    const deviceCs = first.deviceConnectionString('r-dev');
    const device = DeviceClient.fromConnectionString(deviceCs, Mqtt);
    await device.setOptions({ ca: first.caPem });
    h.defer(() => device.close());
    await device.open();
    const twin = await device.getTwin();
    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update({ seen: true }, (e?: Error) => (e ? reject(e) : resolve())),
    );
    const patches: Record<string, unknown>[] = [];
    twin.on('properties.desired', (d: Record<string, unknown>) => patches.push(d));
    await eventually(() => (first.subscriptionsOf('r-dev').includes(DESIRED_FILTER) ? true : undefined));

    await first.stop();
    firstStopped = true;
    const second = await startSandboxIotHub({ stateDir });
    h.defer(() => second.stop());

    expect(second.port).toBe(first.port);
    expect(second.ownerConnectionString).toBe(first.ownerConnectionString);
    expect(second.deviceConnectionString('r-dev')).toBe(deviceCs);
    const { responseBody: stored } = await service.registry.getTwin('r-dev');
    expect(stored.tags).toEqual({ site: 'r' });
    expect(stored.properties.desired).toMatchObject({ a: 1, $version: 2 });
    expect(stored.properties.reported).toMatchObject({ seen: true, $version: 2 });
    const { responseBody: config } = await service.registry.getConfiguration('r-conf');
    expect(config.targetCondition).toBe("tags.site = 'r'");

    // A module created after the restart still gets the deployment.
    await service.registry.addModule({ deviceId: 'r-dev', moduleId: 'fwd' });
    const { responseBody: moduleTwin } = await service.registry.getModuleTwin('r-dev', 'fwd');
    expect(moduleTwin.properties.desired).toMatchObject({ from: 'deployment' });

    // The device reconnects by itself and, thanks to its kept session, receives the next patch.
    await eventually(() => (second.isConnected('r-dev') ? true : undefined), 20_000);
    const got = nextEvent<void>(
      (deliver) => twin.on('properties.desired', (d: Record<string, unknown>) => d.b === 2 && deliver()),
      10_000,
    );
    await service.registry.updateTwin('r-dev', { properties: { desired: { b: 2 } } }, '*');
    await got;
    expect(patches.some((p) => p.b === 2 && p.$version === 3)).toBe(true);
  });

  it('serves ModuleClient.fromEnvironment(Mqtt) with the environment the hub hands out', async () => {
    const hub = await h.hub({ stateDir: await h.tempDir() });
    hub.createDevice('env-dev');
    hub.createModule('env-dev', 'env-mod');
    const env = hub.moduleEnvironment('env-dev', 'env-mod');
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let module: ModuleClient;
    try {
      module = await ModuleClient.fromEnvironment(Mqtt);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    h.defer(() => module.close());
    await module.open();
    const twin = await module.getTwin();
    expect(twin.properties.reported.$version).toBe(1);
    expect(hub.isConnected('env-dev', 'env-mod')).toBe(true);
  });
});
