import { Client as DeviceClient, ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { Registry } from 'azure-iothub';
import { createIotHubServiceClients, IotHubServiceClients, SandboxIotHub } from '../../sandbox/src/iothub';
import { createIotHubSasToken } from '../../sandbox/src/iothub/sas';
import { eventually, Harness, noRetry } from '../support/sandbox-iothub-helpers';

// Registry, queries, automatic deployments and authentication against the unmodified SDKs.
describe('sandbox IoT Hub: registry, queries, configurations, auth', () => {
  const h = new Harness();
  let hub: SandboxIotHub;
  let service: IotHubServiceClients;
  let registry: Registry;

  beforeAll(async () => {
    hub = await h.hub();
    service = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
    registry = service.registry;
    h.defer(async () => service.close());
  });
  afterAll(() => h.cleanup());

  async function deviceWithTags(
    deviceId: string,
    tags: Record<string, unknown>,
    iotEdge = false,
  ): Promise<void> {
    await registry.create({ deviceId, capabilities: { iotEdge } });
    await registry.updateTwin(deviceId, { tags }, '*');
  }

  it('creates, reads and deletes devices and modules with generated keys', async () => {
    const { responseBody: created } = await registry.create({ deviceId: 'crud-dev' });
    const { responseBody: read } = await registry.get('crud-dev');
    expect(read.authentication?.symmetricKey?.primaryKey).toBe(
      created.authentication?.symmetricKey?.primaryKey,
    );
    expect(read.authentication?.symmetricKey?.secondaryKey).not.toBe(
      read.authentication?.symmetricKey?.primaryKey,
    );
    await expect(registry.create({ deviceId: 'crud-dev' })).rejects.toMatchObject({
      name: 'DeviceAlreadyExistsError',
    });

    await registry.addModule({ deviceId: 'crud-dev', moduleId: 'm1' });
    const { responseBody: module } = await registry.getModule('crud-dev', 'm1');
    expect(module.authentication?.symmetricKey?.primaryKey).toMatch(/=$/);
    const { responseBody: modules } = await registry.getModulesOnDevice('crud-dev');
    expect(modules.map((m) => m.moduleId)).toEqual(['m1']);

    await registry.delete('crud-dev');
    await expect(registry.get('crud-dev')).rejects.toMatchObject({ name: 'DeviceNotFoundError' });
  });

  it('queries twins by tags with AND/OR, !=, IS_DEFINED and pages through results', async () => {
    for (let i = 0; i < 7; i += 1) {
      await deviceWithTags(`q-${i}`, {
        fleet: 'q',
        site: i < 4 ? 'north' : 'south',
        ...(i % 2 ? { odd: true } : {}),
      });
    }
    const ids = async (sql: string, pageSize?: number) => {
      const query = registry.createQuery(sql, pageSize);
      const out: string[] = [];
      let pages = 0;
      while (query.hasMoreResults) {
        const { result } = await query.nextAsTwin();
        out.push(...result.map((t) => t.deviceId));
        pages += 1;
      }
      return { ids: out, pages };
    };
    expect((await ids("SELECT * FROM devices WHERE tags.fleet = 'q' AND tags.site = 'north'")).ids).toEqual([
      'q-0',
      'q-1',
      'q-2',
      'q-3',
    ]);
    expect(
      (
        await ids(
          "SELECT * FROM devices WHERE tags.fleet = 'q' AND (tags.site != 'north' OR IS_DEFINED(tags.odd))",
        )
      ).ids,
    ).toEqual(['q-1', 'q-3', 'q-4', 'q-5', 'q-6']);
    const paged = await ids("SELECT * FROM devices WHERE tags.fleet = 'q'", 3);
    expect(paged.ids).toEqual(['q-0', 'q-1', 'q-2', 'q-3', 'q-4', 'q-5', 'q-6']);
    expect(paged.pages).toBe(3);

    await registry.addModule({ deviceId: 'q-0', moduleId: 'fwd' });
    await registry.updateModuleTwin('q-0', 'fwd', { tags: { role: 'forwarder' } }, '*');
    const { result: modules } = await registry
      .createQuery("SELECT * FROM devices.modules WHERE tags.role = 'forwarder'")
      .next();
    expect(modules).toEqual([expect.objectContaining({ deviceId: 'q-0', moduleId: 'fwd' })]);

    await expect(registry.createQuery('SELECT * FROM devices WHERE').next()).rejects.toMatchObject({
      name: 'ArgumentError',
    });
  });

  it('applies a deployment to a module created later on a targeted device, layered on top by priority', async () => {
    await registry.addConfiguration({
      id: 'base-fwd',
      schemaVersion: '1.0',
      priority: 10,
      targetCondition: "tags.role = 'site'",
      content: {
        modulesContent: {
          'relay-forwarder': { 'properties.desired': { logLevel: 'info', routes: { web: { port: 80 } } } },
        },
      },
    });
    await registry.addConfiguration({
      id: 'layer-db',
      schemaVersion: '1.0',
      priority: 20,
      targetCondition: "tags.role = 'site' AND tags.db = true",
      content: { modulesContent: { 'relay-forwarder': { 'properties.desired.routes.db': { port: 1433 } } } },
    });
    await registry.addConfiguration({
      id: 'low-layer',
      schemaVersion: '1.0',
      priority: 5,
      targetCondition: "tags.role = 'site'",
      content: { modulesContent: { 'relay-forwarder': { 'properties.desired.logLevel': 'debug' } } },
    });
    await deviceWithTags('site-1', { role: 'site', db: true }, true);
    await deviceWithTags('other', { role: 'lab' }, true);

    await registry.addModule({ deviceId: 'site-1', moduleId: 'relay-forwarder' });
    await registry.addModule({ deviceId: 'other', moduleId: 'relay-forwarder' });
    const { responseBody: twin } = await registry.getModuleTwin('site-1', 'relay-forwarder');
    // The lower-priority layer is overwritten by the base; the higher one adds its path on top.
    expect(twin.properties.desired).toMatchObject({
      logLevel: 'info',
      routes: { web: { port: 80 }, db: { port: 1433 } },
    });
    const { responseBody: untouched } = await registry.getModuleTwin('other', 'relay-forwarder');
    expect(untouched.properties.desired).not.toHaveProperty('routes');

    // The module sees the deployed configuration over MQTT with its own key.
    const module = await h.module(hub, hub.moduleConnectionString('site-1', 'relay-forwarder'));
    const moduleTwin = await module.getTwin();
    expect(moduleTwin.properties.desired.routes).toEqual({ web: { port: 80 }, db: { port: 1433 } });

    // Re-targeting: dropping the db tag removes the layer's path.
    await registry.updateTwin('site-1', { tags: { db: null } }, '*');
    const { responseBody: after } = await registry.getModuleTwin('site-1', 'relay-forwarder');
    expect(after.properties.desired.routes).toEqual({ web: { port: 80 } });

    const { responseBody: configs } = await registry.getConfigurations();
    expect(configs.map((c) => c.id).sort()).toEqual(['base-fwd', 'layer-db', 'low-layer']);
    const { responseBody: base } = await registry.getConfiguration('base-fwd');
    expect(base.systemMetrics?.results).toMatchObject({ targetedCount: 2, appliedCount: 2 });
    await registry.removeConfiguration('layer-db');
    await expect(registry.getConfiguration('layer-db')).rejects.toMatchObject({
      response: { statusCode: 404 },
    });
    await expect(
      registry.addConfiguration({
        id: 'Bad Id',
        schemaVersion: '1.0',
        content: { deviceContent: { 'properties.desired': {} } },
      }),
    ).rejects.toMatchObject({ name: 'ArgumentError' });
  });

  it('refuses a module with a wrong key, an expired token and a device token used as a module', async () => {
    await registry.create({ deviceId: 'auth-dev' });
    await registry.addModule({ deviceId: 'auth-dev', moduleId: 'good' });
    const good = hub.moduleConnectionString('auth-dev', 'good');
    const wrongKey = good.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    const refused = async (open: () => Promise<unknown>) => {
      await expect(open()).rejects.toThrow(/refused|[Nn]ot authorized|[Uu]nauthorized/);
    };
    const tryModule = async (cs: string) => {
      const client = cs.startsWith('SharedAccessSignature ')
        ? ModuleClient.fromSharedAccessSignature(cs, Mqtt)
        : ModuleClient.fromConnectionString(cs, Mqtt);
      client.setRetryPolicy(noRetry);
      await client.setOptions({ ca: hub.caPem });
      h.defer(() => client.close());
      return client.open();
    };
    await refused(() => tryModule(wrongKey));

    // Expired token, correctly signed with the module's own key.
    const { responseBody: moduleInfo } = await registry.getModule('auth-dev', 'good');
    const key = moduleInfo.authentication?.symmetricKey?.primaryKey ?? '';
    const expired = createIotHubSasToken(
      `${hub.hostName}/devices/auth-dev/modules/good`,
      key,
      Math.floor(Date.now() / 1000) - 10,
    );
    await refused(() => tryModule(expired));

    // The device's key does not open the module identity.
    const deviceKey = /SharedAccessKey=([^;]+)/.exec(hub.deviceConnectionString('auth-dev'))?.[1] ?? '';
    await refused(() => tryModule(good.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${deviceKey}`)));

    // The right key works, and a device connection with the module key does not.
    await expect(tryModule(good)).resolves.toBeDefined();
    const deviceWithModuleKey = DeviceClient.fromConnectionString(
      `HostName=${hub.hostName};DeviceId=auth-dev;SharedAccessKey=${key}`,
      Mqtt,
    );
    deviceWithModuleKey.setRetryPolicy(noRetry);
    await deviceWithModuleKey.setOptions({ ca: hub.caPem });
    h.defer(() => deviceWithModuleKey.close());
    await refused(() => deviceWithModuleKey.open());
  });

  it('closes a connection when its SAS token expires, as IoT Hub does', async () => {
    await registry.create({ deviceId: 'short-token' });
    const { responseBody } = await registry.get('short-token');
    const key = responseBody.authentication?.symmetricKey?.primaryKey ?? '';
    const sas = createIotHubSasToken(
      `${hub.hostName}/devices/short-token`,
      key,
      Math.floor(Date.now() / 1000) + 2,
    );
    const client = DeviceClient.fromSharedAccessSignature(sas, Mqtt);
    client.setRetryPolicy(noRetry);
    await client.setOptions({ ca: hub.caPem });
    h.defer(() => client.close());
    const disconnected = new Promise<void>((resolve) => client.on('disconnect', () => resolve()));
    await client.open();
    expect(hub.isConnected('short-token')).toBe(true);
    await disconnected;
    await eventually(() => (hub.isConnected('short-token') ? undefined : true));
  });

  it('refuses service calls with a wrong key or a policy without the right', async () => {
    const owner = hub.ownerConnectionString;
    const bad = createIotHubServiceClients(
      owner.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${Buffer.alloc(32).toString('base64')}`),
      {
        ca: hub.caPem,
      },
    );
    h.defer(async () => bad.close());
    await expect(bad.registry.list()).rejects.toMatchObject({ name: 'UnauthorizedError' });
    const readOnly = createIotHubServiceClients(hub.serviceConnectionString('registryRead'), {
      ca: hub.caPem,
    });
    h.defer(async () => readOnly.close());
    await expect(readOnly.registry.list()).resolves.toBeDefined();
    await expect(readOnly.registry.create({ deviceId: 'nope' })).rejects.toMatchObject({
      name: 'UnauthorizedError',
    });
  });
});
