import { Twin as DeviceTwin } from 'azure-iot-device';
import { createIotHubServiceClients, IotHubServiceClients, SandboxIotHub } from '../../sandbox/src/iothub';
import { eventually, Harness, nextEvent } from '../support/sandbox-iothub-helpers';

const DESIRED_FILTER = '$iothub/twin/PATCH/properties/desired/#';

// Twin conformance against unmodified azure-iot-device-mqtt (device side) and azure-iothub (service side).
describe('sandbox IoT Hub: twins', () => {
  const h = new Harness();
  let hub: SandboxIotHub;
  let service: IotHubServiceClients;

  beforeAll(async () => {
    hub = await h.hub();
    service = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
    h.defer(async () => service.close());
  });
  afterAll(() => h.cleanup());

  async function createDevice(deviceId: string): Promise<string> {
    const { responseBody } = await service.registry.create({ deviceId });
    expect(responseBody.authentication?.symmetricKey?.primaryKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    return hub.deviceConnectionString(deviceId);
  }

  // The SDK replays the current desired document to every listener when one is added, so wait for the
  // delta that matches rather than for the next event.
  function desiredUpdate(
    twin: DeviceTwin,
    match: (d: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    return nextEvent((deliver) =>
      twin.on('properties.desired', (delta: Record<string, unknown>) => {
        if (match(delta)) deliver(delta);
      }),
    );
  }

  it('round-trips GET, reported and desired patches with growing $version', async () => {
    const client = await h.device(hub, await createDevice('twin-dev'));
    const twin = await client.getTwin();
    expect(twin.properties.reported.$version).toBe(1);
    expect(twin.properties.desired.$version).toBe(1);

    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update({ site: 'lab', stats: { up: 1 } }, (err?: Error) =>
        err ? reject(err) : resolve(),
      ),
    );
    const afterReport = await service.registry.getTwin('twin-dev');
    expect(afterReport.responseBody.properties.reported).toMatchObject({
      site: 'lab',
      stats: { up: 1 },
      $version: 2,
    });

    const delivered = desiredUpdate(twin, (d) => d.route !== undefined);
    // Adding the listener subscribes in the background; a patch sent before that would not be delivered.
    await eventually(() => (hub.subscriptionsOf('twin-dev').includes(DESIRED_FILTER) ? true : undefined));
    const updated = await afterReport.responseBody.update({
      properties: { desired: { route: { port: 8080 } } },
    });
    expect(updated.result.properties.desired.$version).toBe(2);
    const delta = await delivered;
    expect(delta).toMatchObject({ route: { port: 8080 }, $version: 2 });

    const fresh = await client.getTwin();
    expect(fresh.properties.desired).toMatchObject({ route: { port: 8080 }, $version: 2 });
  });

  it('deletes a property patched to null, on both sides', async () => {
    const client = await h.device(hub, await createDevice('null-dev'));
    const twin = await client.getTwin();
    const report = (patch: Record<string, unknown>) =>
      new Promise<void>((resolve, reject) =>
        twin.properties.reported.update(patch, (err?: Error) => (err ? reject(err) : resolve())),
      );
    await report({ keep: 1, drop: { nested: true } });
    await report({ drop: null });
    const { responseBody: svcTwin } = await service.registry.getTwin('null-dev');
    expect(svcTwin.properties.reported).toMatchObject({ keep: 1, $version: 3 });
    expect(svcTwin.properties.reported).not.toHaveProperty('drop');

    await svcTwin.update({ tags: { a: 1, b: 2 }, properties: { desired: { x: 1, y: 2 } } });
    const { result: cleared } = await svcTwin.update({
      tags: { b: null },
      properties: { desired: { y: null } },
    });
    expect(cleared.tags).toEqual({ a: 1 });
    expect(cleared.properties.desired).not.toHaveProperty('y');
    expect(cleared.properties.desired).toMatchObject({ x: 1, $version: 3 });
  });

  it('refuses a stale etag with 412 and accepts the current one', async () => {
    await createDevice('etag-dev');
    const { responseBody: first } = await service.registry.getTwin('etag-dev');
    const staleEtag = first.etag;
    await service.registry.updateTwin('etag-dev', { tags: { round: 1 } }, staleEtag);
    await expect(
      service.registry.updateTwin('etag-dev', { tags: { round: 2 } }, staleEtag),
    ).rejects.toMatchObject({
      name: 'InvalidEtagError',
      response: { statusCode: 412 },
    });
    const { responseBody: current } = await service.registry.getTwin('etag-dev');
    expect(current.tags).toEqual({ round: 1 });
    const { responseBody: next } = await service.registry.updateTwin(
      'etag-dev',
      { tags: { round: 2 } },
      current.etag,
    );
    expect(next.tags).toEqual({ round: 2 });
    expect(next.etag).not.toBe(current.etag);
  });

  it('delivers twin responses and desired patches only to the client they belong to', async () => {
    await createDevice('iso-dev');
    await service.registry.addModule({ deviceId: 'iso-dev', moduleId: 'mod-a' });
    const device = await h.device(hub, hub.deviceConnectionString('iso-dev'));
    const module = await h.module(hub, hub.moduleConnectionString('iso-dev', 'mod-a'));
    const deviceTwin = await device.getTwin();
    const moduleTwin = await module.getTwin();

    // One listener per twin, installed once: the SDK replays the current document to every listener of a
    // twin whenever a listener is added, so each client's log holds only what that client received.
    const seen: Record<string, Record<string, unknown>[]> = { device: [], module: [] };
    const waiters: ((who: string, d: Record<string, unknown>) => void)[] = [];
    const record = (who: string) => (d: Record<string, unknown>) => {
      seen[who]?.push(d);
      for (const w of [...waiters]) w(who, d);
    };
    deviceTwin.on('properties.desired', record('device'));
    moduleTwin.on('properties.desired', record('module'));
    await eventually(() =>
      hub.subscriptionsOf('iso-dev').includes(DESIRED_FILTER) &&
      hub.subscriptionsOf('iso-dev', 'mod-a').includes(DESIRED_FILTER)
        ? true
        : undefined,
    );
    const received = (who: string, only: string) =>
      nextEvent<void>((deliver) => waiters.push((w, d) => w === who && d.only === only && deliver()));

    // Interleaved requests from both clients on the shared topic names must each get their own answer.
    const reports = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const twin = i % 2 === 0 ? deviceTwin : moduleTwin;
        return new Promise<void>((resolve, reject) =>
          twin.properties.reported.update({ n: i }, (err?: Error) => (err ? reject(err) : resolve())),
        );
      }),
    );
    expect(reports).toHaveLength(10);
    const [devGet, modGet] = await Promise.all([device.getTwin(), module.getTwin()]);
    expect(devGet.properties.reported.$version).toBe(6);
    expect(modGet.properties.reported.$version).toBe(6);

    const moduleGot = received('module', 'module');
    await service.registry.updateModuleTwin(
      'iso-dev',
      'mod-a',
      { properties: { desired: { only: 'module' } } },
      '*',
    );
    await moduleGot;
    const deviceGot = received('device', 'device');
    await service.registry.updateTwin('iso-dev', { properties: { desired: { only: 'device' } } }, '*');
    await deviceGot;
    expect(seen.device?.some((d) => d.only === 'module')).toBe(false);
    expect(seen.module?.some((d) => d.only === 'device')).toBe(false);
  });
});
