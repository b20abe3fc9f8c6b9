import {
  Client as DeviceClient,
  DeviceMethodRequest,
  DeviceMethodResponse,
  Message,
  ModuleClient,
} from 'azure-iot-device';
import { createIotHubServiceClients, IotHubServiceClients, SandboxIotHub } from '../../sandbox/src/iothub';
import { eventually, Harness } from '../support/sandbox-iothub-helpers';

const METHODS_FILTER = '$iothub/methods/POST/#';

// Direct methods (service REST → MQTT → device → REST answer) and device-to-cloud messages.
describe('sandbox IoT Hub: direct methods and telemetry', () => {
  const h = new Harness();
  let hub: SandboxIotHub;
  let service: IotHubServiceClients;
  let device: DeviceClient;
  let module: ModuleClient;

  beforeAll(async () => {
    hub = await h.hub();
    service = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
    h.defer(async () => service.close());
    await service.registry.create({ deviceId: 'm-dev' });
    await service.registry.addModule({ deviceId: 'm-dev', moduleId: 'm-mod' });
    device = await h.device(hub, hub.deviceConnectionString('m-dev'));
    module = await h.module(hub, hub.moduleConnectionString('m-dev', 'm-mod'));
  });
  afterAll(() => h.cleanup());

  function answer(status: number, payload: unknown) {
    return (request?: DeviceMethodRequest, response?: DeviceMethodResponse) => {
      void response?.send(status, { echo: request?.payload, payload });
    };
  }

  it('invokes device and module methods and returns each one its own answer', async () => {
    device.onDeviceMethod('getStatus', answer(200, 'from-device'));
    module.onMethod('getStatus', answer(201, 'from-module'));
    await eventually(() =>
      hub.subscriptionsOf('m-dev').includes(METHODS_FILTER) &&
      hub.subscriptionsOf('m-dev', 'm-mod').includes(METHODS_FILTER)
        ? true
        : undefined,
    );

    const [toDevice, toModule] = await Promise.all([
      service.client.invokeDeviceMethod('m-dev', {
        methodName: 'getStatus',
        payload: { n: 1 },
        responseTimeoutInSeconds: 10,
      }),
      service.client.invokeDeviceMethod('m-dev', 'm-mod', {
        methodName: 'getStatus',
        payload: { n: 2 },
        responseTimeoutInSeconds: 10,
      }),
    ]);
    expect(toDevice.result).toEqual({ status: 200, payload: { echo: { n: 1 }, payload: 'from-device' } });
    expect(toModule.result).toEqual({ status: 201, payload: { echo: { n: 2 }, payload: 'from-module' } });
  });

  it('answers 504 when the device does not respond in time and 404 when it is offline', async () => {
    await service.registry.create({ deviceId: 'slow-dev' });
    const slow = await h.device(hub, hub.deviceConnectionString('slow-dev'));
    // Registered but never answers.
    slow.onDeviceMethod('hang', () => undefined);
    await eventually(() => (hub.subscriptionsOf('slow-dev').includes(METHODS_FILTER) ? true : undefined));
    await expect(
      service.client.invokeDeviceMethod('slow-dev', {
        methodName: 'hang',
        payload: null,
        responseTimeoutInSeconds: 5,
      }),
    ).rejects.toMatchObject({ name: 'GatewayTimeoutError', response: { statusCode: 504 } });

    await service.registry.create({ deviceId: 'offline-dev' });
    await expect(
      service.client.invokeDeviceMethod('offline-dev', {
        methodName: 'x',
        payload: null,
        responseTimeoutInSeconds: 5,
      }),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
    await expect(
      service.client.invokeDeviceMethod('slow-dev', {
        methodName: 'x',
        payload: null,
        responseTimeoutInSeconds: 1,
      }),
    ).rejects.toMatchObject({ name: 'ArgumentError' });
  });

  it('records telemetry and module output events with their properties', async () => {
    const telemetry = new Message(JSON.stringify({ temp: 21 }));
    telemetry.properties.add('kind', 'reading');
    telemetry.messageId = 'msg-1';
    telemetry.contentType = 'application/json';
    await device.sendEvent(telemetry);
    const stats = new Message(JSON.stringify({ routes: 2 }));
    stats.properties.add('location', 'site-7');
    await module.sendOutputEvent('stats', stats);

    const fromDevice = await hub.waitForMessage((m) => m.deviceId === 'm-dev' && !m.moduleId);
    expect(JSON.parse(fromDevice.body.toString())).toEqual({ temp: 21 });
    expect(fromDevice.properties).toEqual({ kind: 'reading' });
    expect(fromDevice.systemProperties).toMatchObject({ mid: 'msg-1', ct: 'application/json' });
    const fromModule = await hub.waitForMessage((m) => m.moduleId === 'm-mod');
    expect(fromModule).toMatchObject({
      deviceId: 'm-dev',
      outputName: 'stats',
      properties: { location: 'site-7' },
    });
    expect(JSON.parse(fromModule.body.toString())).toEqual({ routes: 2 });
    expect(fromModule.sequenceNumber).toBeGreaterThan(fromDevice.sequenceNumber);
  });
});
