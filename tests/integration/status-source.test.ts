// IotHubFleetSource through the unmodified azure-iothub Registry against the sandbox IoT Hub over TLS: device tags
// and module reported properties (written by a real module client over MQTT) come back; desired properties — where
// the controller puts SAS tokens — never do, and paging reads every row.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'azure-iothub';
import type { ModuleClient } from 'azure-iot-device';
import { IotHubFleetSource } from '../../cloud/src/status';
import { moduleClientFromEnvironment } from '../../modules/common/src/twin/module-client';
import { createIotHubServiceClients, startSandboxIotHub, type SandboxIotHub } from '../../sandbox/src/iothub';

const SAS =
  'SharedAccessSignature sr=sb%3A%2F%2Fns%2Fhrf-plant-7&sig=QmFkU2lnbmF0dXJlVmFsdWU%3D&se=1900000000&skn=listen';

describe('IotHubFleetSource against the sandbox IoT Hub', () => {
  let hub: SandboxIotHub;
  let clients: { registry: Registry; close(): void };
  let module: ModuleClient | undefined;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-status-'));
    hub = await startSandboxIotHub({ stateDir });
    clients = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
    const registry = clients.registry;
    for (const [deviceId, relay] of [
      ['gw-1', { role: 'gateway', pool: 'default' }],
      ['plant-7', { role: 'location', services: { sql: { target: '10.0.0.5:1433' } } }],
      ['site-2', { role: 'location', services: {} }],
    ] as const) {
      await registry.create({ deviceId, capabilities: { iotEdge: true } } as never);
      await registry.updateTwin(deviceId, { tags: { relay } } as never, '*');
    }
    await registry.create({ deviceId: 'unrelated' } as never);
    await registry.addModule({ deviceId: 'plant-7', moduleId: 'relay-forwarder' } as never);
    await registry.addModule({ deviceId: 'plant-7', moduleId: 'other-module' } as never);
    await registry.addModule({ deviceId: 'gw-1', moduleId: 'relay-gateway' } as never);
    // A second gateway instance (a pool with gatewayModules: 2) and one beyond any pool's count.
    await registry.addModule({ deviceId: 'gw-1', moduleId: 'relay-gateway-2' } as never);
    await registry.addModule({ deviceId: 'gw-1', moduleId: 'relay-gateway-3' } as never);
    await registry.updateModuleTwin(
      'plant-7',
      'relay-forwarder',
      { properties: { desired: { hybridConnections: { 'hrf-plant-7': { sasToken: SAS } } } } } as never,
      '*',
    );
    // The module reports over MQTT, as relay-forwarder does.
    module = await moduleClientFromEnvironment(hub.moduleEnvironment('plant-7', 'relay-forwarder'));
    await module.open();
    const twin = await module.getTwin();
    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update(
        {
          config: { status: 'applied', version: 2 },
          hybridConnections: { 'hrf-plant-7': { status: 'listening', onlineListeners: 1, listeners: 1 } },
        },
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
  });

  afterAll(async () => {
    await module?.close();
    clients.close();
    await hub.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("reads the numbered relay-gateway instances up to the pools' gatewayModules", async () => {
    const reading = await new IotHubFleetSource(clients.registry, { gatewayModules: 2 }).read();
    expect(
      reading.modules
        .filter((m) => m.deviceId === 'gw-1')
        .map((m) => m.moduleId)
        .sort(),
    ).toEqual(['relay-gateway', 'relay-gateway-2']);
  });

  it('reads relay devices with their tags and relay modules with their reported properties only', async () => {
    const reading = await new IotHubFleetSource(clients.registry).read();
    expect(reading.devices.map((d) => d.deviceId).sort()).toEqual(['gw-1', 'plant-7', 'site-2']);
    expect(reading.devices.find((d) => d.deviceId === 'plant-7')!.tags).toEqual({
      relay: { role: 'location', services: { sql: { target: '10.0.0.5:1433' } } },
    });
    const modules = [...reading.modules].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
    expect(modules.map((m) => [m.deviceId, m.moduleId])).toEqual([
      ['gw-1', 'relay-gateway'],
      ['plant-7', 'relay-forwarder'],
    ]);
    expect(modules[1]).toEqual({
      deviceId: 'plant-7',
      moduleId: 'relay-forwarder',
      connectionState: 'Connected',
      reported: {
        config: { status: 'applied', version: 2 },
        hybridConnections: { 'hrf-plant-7': { status: 'listening', onlineListeners: 1, listeners: 1 } },
      },
    });
    const json = JSON.stringify(reading);
    expect(json).not.toContain('sasToken');
    expect(json).not.toContain('QmFkU2lnbmF0dXJlVmFsdWU');
  });

  it('reads every page', async () => {
    const reading = await new IotHubFleetSource(clients.registry, { pageSize: 1 }).read();
    expect(reading.devices).toHaveLength(3);
    expect(reading.modules).toHaveLength(2);
  });

  it('turns a failed query into STATUS_SOURCE_FAILED', async () => {
    const broken = createIotHubServiceClients(
      hub.ownerConnectionString.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=d3JvbmdrZXl3cm9uZ2tleQ=='),
      { ca: hub.caPem },
    );
    try {
      await expect(new IotHubFleetSource(broken.registry).read()).rejects.toMatchObject({
        code: 'STATUS_SOURCE_FAILED',
        status: 401,
        retryable: false,
      });
    } finally {
      broken.close();
    }
  });
});
