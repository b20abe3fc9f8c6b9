import { connect, MqttClient } from 'mqtt';
import { createIotHubSasToken } from '../../sandbox/src/iothub/sas';
import { SandboxIotHub } from '../../sandbox/src/iothub';
import { eventually, Harness } from '../support/sandbox-iothub-helpers';

// Wire-level checks with a plain MQTT client (the mqtt.js the Azure SDK itself uses): what IoT Hub refuses.
describe('sandbox IoT Hub: MQTT rules', () => {
  const h = new Harness();
  let hub: SandboxIotHub;

  beforeAll(async () => {
    hub = await h.hub();
    hub.createDevice('raw-a');
    hub.createDevice('raw-b');
  });
  afterAll(() => h.cleanup());

  function key(deviceId: string): string {
    return /SharedAccessKey=([^;]+)/.exec(hub.deviceConnectionString(deviceId))?.[1] ?? '';
  }

  async function open(deviceId: string): Promise<MqttClient> {
    const client = connect(`mqtts://${hub.hostName}`, {
      clientId: deviceId,
      username: `${hub.hostName}/${deviceId}/?api-version=2021-04-12`,
      password: createIotHubSasToken(
        `${hub.hostName}/devices/${deviceId}`,
        key(deviceId),
        Math.floor(Date.now() / 1000) + 600,
      ),
      ca: hub.caPem,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
    });
    h.defer(() => new Promise<void>((resolve) => client.end(true, {}, () => resolve())));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  }

  it("refuses subscriptions to other clients' topics with SUBACK 0x80", async () => {
    const client = await open('raw-a');
    const granted = await new Promise<{ topic: string; qos: number }[]>((resolve, reject) =>
      client.subscribe(
        ['$iothub/twin/res/#', 'devices/raw-b/messages/events/#', '#', '$iothub/methods/POST/#'],
        { qos: 1 },
        (err, g) => (err ? reject(err) : resolve(g ?? [])),
      ),
    );
    expect(granted.map((g) => g.qos)).toEqual([1, 128, 128, 1]);
  });

  it('never forwards one client’s messages to another and closes a client that publishes as someone else', async () => {
    const a = await open('raw-a');
    const b = await open('raw-b');
    const received: string[] = [];
    b.on('message', (topic) => received.push(topic));
    await new Promise<void>((resolve) => b.subscribe('$iothub/twin/res/#', { qos: 0 }, () => resolve()));
    // a's twin GET answer must go to a only.
    const answered = new Promise<string>((resolve) => a.on('message', (topic) => resolve(topic)));
    await new Promise<void>((resolve) => a.subscribe('$iothub/twin/res/#', { qos: 0 }, () => resolve()));
    a.publish('$iothub/twin/GET/?$rid=42', '');
    expect(await answered).toBe('$iothub/twin/res/200/?$rid=42');

    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish('devices/raw-b/messages/events/', 'spoofed', { qos: 1 });
    await closed;
    await eventually(() => (hub.isConnected('raw-a') ? undefined : true));
    expect(hub.messages.recent((m) => m.body.toString() === 'spoofed')).toEqual([]);
    expect(received).toEqual([]);
  });
});
