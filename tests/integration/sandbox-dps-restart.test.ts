import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createProvisioningServiceClient,
  registerWithSymmetricKey,
  startSandboxDps,
  type SandboxDps,
} from '../../sandbox/src/dps';
import type { SandboxIotHub } from '../../sandbox/src/iothub';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { Harness } from '../support/sandbox-iothub-helpers';

// State of the sandbox DPS survives a restart: ID scope, port, keys, enrollment groups, registrations.
describe('sandbox DPS: restart', () => {
  const h = new Harness();
  let pki: SandboxPki;
  let hub: SandboxIotHub;

  beforeAll(async () => {
    pki = await generateSandboxPki();
    hub = await h.hub({ pki });
  });

  afterAll(() => h.cleanup());

  function register(dps: SandboxDps, groupId: string, registrationId: string) {
    return registerWithSymmetricKey({
      provisioningHost: dps.hostName,
      idScope: dps.idScope,
      registrationId,
      symmetricKey: dps.deviceKey(groupId, registrationId),
      ca: dps.caPem,
    });
  }

  it('keeps ID scope, port, service key, groups and registration states', async () => {
    const stateDir = await h.tempDir();
    const first = await startSandboxDps({ iotHub: hub, pki, stateDir, retryAfterSeconds: 0 });
    let second: SandboxDps | undefined;
    try {
      const service = createProvisioningServiceClient(first.serviceConnectionString, { ca: first.caPem });
      const created = (
        await service.createOrUpdateEnrollmentGroup({
          enrollmentGroupId: 'kept',
          attestation: { type: 'symmetricKey' } as never,
          provisioningStatus: 'enabled',
          initialTwin: { tags: { kept: true } } as never,
        })
      ).responseBody;
      await register(first, 'kept', 'kept-device');
      await first.stop();

      const file = join(stateDir, 'dps-state.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const doc = JSON.parse(await readFile(file, 'utf8')) as { idScope: string };
      expect(doc.idScope).toBe(first.idScope);

      second = await startSandboxDps({ iotHub: hub, pki, stateDir, retryAfterSeconds: 0 });
      expect(second.idScope).toBe(first.idScope);
      expect(second.port).toBe(first.port);
      expect(second.serviceConnectionString).toBe(first.serviceConnectionString);
      const again = createProvisioningServiceClient(second.serviceConnectionString, { ca: second.caPem });
      expect((await again.getEnrollmentGroup('kept')).responseBody).toEqual(created);
      expect((await again.getDeviceRegistrationState('kept-device')).responseBody).toMatchObject({
        status: 'assigned',
        deviceId: 'kept-device',
      });
      // The device registers again with the same derived key; its hub twin was kept.
      expect(await register(second, 'kept', 'kept-device')).toMatchObject({
        substatus: 'deviceDataMigrated',
      });
      expect(hub.getTwin('kept-device').tags).toEqual({ kept: true });
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('ends a registration as "failed" when the linked hub is unreachable, and records it', async () => {
    const lonelyHub = await h.hub({ pki });
    const dps = await startSandboxDps({ iotHub: lonelyHub, pki, retryAfterSeconds: 0 });
    try {
      const service = createProvisioningServiceClient(dps.serviceConnectionString, { ca: dps.caPem });
      await service.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: 'orphans',
        attestation: { type: 'symmetricKey' } as never,
        provisioningStatus: 'enabled',
      });
      await lonelyHub.stop();
      const err = (await register(dps, 'orphans', 'orphan').catch((e: unknown) => e)) as {
        name: string;
        result?: { status: string; registrationState?: { errorCode?: number } };
      };
      // azure-iot-common's DeviceRegistrationFailedError names itself ProvisioningRegistrationFailedError.
      expect(err.name).toBe('ProvisioningRegistrationFailedError');
      expect(err.result).toMatchObject({ status: 'failed', registrationState: { errorCode: 500000 } });
      expect(dps.registrations().find((r) => r.registrationId === 'orphan')?.status).toBe('failed');
    } finally {
      await dps.stop();
    }
  });

  it('moves a corrupt state file aside and starts empty', async () => {
    const stateDir = await h.tempDir();
    await writeFile(join(stateDir, 'dps-state.json'), '{"schema":1,"idScope":');
    const dps = await startSandboxDps({ iotHub: hub, pki, stateDir });
    try {
      expect(dps.idScope).toMatch(/^0ne[0-9A-F]{8}$/);
      expect((await readdir(stateDir)).some((f) => f.startsWith('dps-state.json.corrupt-'))).toBe(true);
    } finally {
      await dps.stop();
    }
  });
});
