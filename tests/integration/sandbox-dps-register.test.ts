import { Client as DeviceClient } from 'azure-iot-device';
import { Mqtt as DeviceMqtt } from 'azure-iot-device-mqtt';
import type { RegistrationResult } from 'azure-iot-provisioning-device';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import {
  createProvisioningServiceClient,
  deriveDeviceKey,
  registerWithSymmetricKey,
  startSandboxDps,
  type SandboxDps,
} from '../../sandbox/src/dps';
import type { SandboxIotHub } from '../../sandbox/src/iothub';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { Harness, noRetry } from '../support/sandbox-iothub-helpers';

const GROUP_KEY = Buffer.alloc(32, 7).toString('base64');

// Registration with the unmodified provisioning device SDK (MQTT and HTTPS transports, symmetric-key
// security client) against the sandbox DPS, assigning to the sandbox IoT Hub.
describe('sandbox DPS: device registration with the unmodified SDK', () => {
  const h = new Harness();
  let hub: SandboxIotHub;
  let dps: SandboxDps;
  let service: ProvisioningServiceClient;

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    hub = await h.hub({ pki });
    dps = await startSandboxDps({ iotHub: hub, pki, retryAfterSeconds: 0 });
    h.defer(() => dps.stop());
    service = createProvisioningServiceClient(dps.serviceConnectionString, { ca: dps.caPem });
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'locations',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY } },
      provisioningStatus: 'enabled',
      capabilities: { iotEdge: true },
      initialTwin: {
        tags: { fleet: { role: 'location', services: { sql: '10.0.0.5:1433' } } },
        properties: { desired: { greeting: 'hello' } },
      } as never,
    });
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'paused',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: '', secondaryKey: '' } },
      provisioningStatus: 'disabled',
    } as never);
  });

  afterAll(() => h.cleanup());

  function register(
    transport: 'mqtt' | 'http',
    registrationId: string,
    key: string,
  ): Promise<RegistrationResult> {
    return registerWithSymmetricKey({
      provisioningHost: dps.hostName,
      idScope: dps.idScope,
      registrationId,
      symmetricKey: key,
      transport,
      ca: dps.caPem,
    });
  }

  it.each(['mqtt', 'http'] as const)(
    'registers over %s with a derived key: device created in the hub with the initial twin, and it connects',
    async (transport) => {
      const registrationId = `site-${transport}`;
      const deviceKey = deriveDeviceKey(GROUP_KEY, registrationId);
      expect(dps.deviceKey('locations', registrationId)).toBe(deviceKey);
      const result = await register(transport, registrationId, deviceKey);
      expect(result).toMatchObject({
        registrationId,
        deviceId: registrationId,
        assignedHub: hub.hostName,
        status: 'assigned',
        substatus: 'initialAssignment',
      });
      const twin = hub.getTwin(registrationId);
      expect(twin.tags).toEqual({ fleet: { role: 'location', services: { sql: '10.0.0.5:1433' } } });
      expect((twin.properties as { desired: Record<string, unknown> }).desired.greeting).toBe('hello');
      expect(twin.capabilities).toEqual({ iotEdge: true });

      // The device connects to its assigned hub with the key it registered with.
      const device = DeviceClient.fromConnectionString(
        `HostName=${result!.assignedHub};DeviceId=${result!.deviceId};SharedAccessKey=${deviceKey}`,
        DeviceMqtt,
      );
      device.setRetryPolicy(noRetry);
      await device.setOptions({ ca: hub.caPem });
      try {
        await device.open();
        const deviceTwin = await device.getTwin();
        expect(deviceTwin.properties.desired.greeting).toBe('hello');
      } finally {
        await device.close();
      }
    },
  );

  it('accepts the secondary derived key too', async () => {
    const other = Buffer.alloc(32, 9).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'two-keys',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: Buffer.alloc(32, 8).toString('base64'), secondaryKey: other },
      },
      provisioningStatus: 'enabled',
    });
    const result = await register('mqtt', 'secondary-user', deriveDeviceKey(other, 'secondary-user'));
    expect(result?.status).toBe('assigned');
  });

  it.each(['mqtt', 'http'] as const)(
    'refuses a wrong key over %s with 401 (UnauthorizedError)',
    async (transport) => {
      const wrong = deriveDeviceKey(Buffer.alloc(32, 1).toString('base64'), 'intruder');
      await expect(register(transport, 'intruder', wrong)).rejects.toMatchObject({
        name: 'UnauthorizedError',
      });
      // Signed with the group key itself instead of the derived key: also refused.
      await expect(register(transport, 'intruder', GROUP_KEY)).rejects.toMatchObject({
        name: 'UnauthorizedError',
      });
      expect(() => hub.getTwin('intruder')).toThrow();
    },
  );

  it.each(['mqtt', 'http'] as const)(
    'ends a registration in a disabled enrollment with status "disabled" over %s, creating no device',
    async (transport) => {
      const registrationId = `paused-${transport}`;
      const key = dps.deviceKey('paused', registrationId);
      const err = (await register(transport, registrationId, key).catch((e: unknown) => e)) as {
        message: string;
        result?: { status: string };
      };
      // The SDK's polling state machine has no case for `disabled` and fails with "status is disabled".
      expect(err.result?.status).toBe('disabled');
      expect(err.message).toContain('disabled');
      expect(() => hub.getTwin(registrationId)).toThrow();
      expect(dps.registrations().find((r) => r.registrationId === registrationId)?.status).toBe('disabled');
    },
  );

  it('re-registers an existing device without resetting its twin (migrate data, the default policy)', async () => {
    const registrationId = 'returning-site';
    const key = deriveDeviceKey(GROUP_KEY, registrationId);
    await register('mqtt', registrationId, key);
    hub.patchTwin(registrationId, undefined, { tags: { fleet: { role: 'changed' } } });
    const again = await register('http', registrationId, key);
    expect(again?.substatus).toBe('deviceDataMigrated');
    expect((hub.getTwin(registrationId).tags as { fleet: { role: string } }).fleet.role).toBe('changed');
  });

  it('resets the twin on re-registration when the group does not migrate device data', async () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'resetting',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: key } },
      provisioningStatus: 'enabled',
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
      initialTwin: { tags: { role: 'initial' } } as never,
    });
    const registrationId = 'resetting-site';
    const deviceKey = deriveDeviceKey(key, registrationId);
    await register('mqtt', registrationId, deviceKey);
    hub.patchTwin(registrationId, undefined, { tags: { role: 'changed', extra: 1 } });
    const again = await register('mqtt', registrationId, deviceKey);
    expect(again?.substatus).toBe('deviceDataReset');
    expect(hub.getTwin(registrationId).tags).toEqual({ role: 'initial' });
  });
});
