import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import type { EnrollmentGroup } from 'azure-iot-provisioning-service/dist/interfaces';
import {
  createProvisioningServiceClient,
  registerWithSymmetricKey,
  startSandboxDps,
  type SandboxDps,
} from '../../sandbox/src/dps';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { Harness } from '../support/sandbox-iothub-helpers';

const group = (id: string, extra: Partial<EnrollmentGroup> = {}): EnrollmentGroup => ({
  enrollmentGroupId: id,
  attestation: { type: 'symmetricKey' } as EnrollmentGroup['attestation'],
  provisioningStatus: 'enabled',
  ...extra,
});

// The enrollment service API with the unmodified azure-iot-provisioning-service client.
describe('sandbox DPS: enrollment service API', () => {
  const h = new Harness();
  let dps: SandboxDps;
  let service: ProvisioningServiceClient;

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    const hub = await h.hub({ pki });
    dps = await startSandboxDps({ iotHub: hub, pki, retryAfterSeconds: 0 });
    h.defer(() => dps.stop());
    service = createProvisioningServiceClient(dps.serviceConnectionString, { ca: dps.caPem });
  });

  afterAll(() => h.cleanup());

  it('creates a group with generated keys, gets it, and answers with its etag', async () => {
    const created = (
      await service.createOrUpdateEnrollmentGroup(
        group('fleet-a', {
          capabilities: { iotEdge: true },
          initialTwin: { tags: { fleet: 'a' } } as never,
        }),
      )
    ).responseBody;
    expect(created).toMatchObject({
      enrollmentGroupId: 'fleet-a',
      provisioningStatus: 'enabled',
      capabilities: { iotEdge: true },
      initialTwin: { tags: { fleet: 'a' } },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
      etag: expect.any(String),
    });
    const keys = created.attestation.symmetricKey!;
    expect(Buffer.from(keys.primaryKey, 'base64')).toHaveLength(32);
    expect(keys.secondaryKey).not.toBe(keys.primaryKey);
    const got = await service.getEnrollmentGroup('fleet-a');
    expect(got.responseBody).toEqual(created);
    expect(got.httpResponse.headers.etag).toBe(`"${created.etag}"`);
    const attestation = await service.getEnrollmentGroupAttestationMechanism('fleet-a');
    expect(attestation.responseBody).toEqual(created.attestation);
  });

  it('updates with the current etag, refuses a stale one with 412 (InvalidEtagError), keeps keys when given', async () => {
    const first = (await service.createOrUpdateEnrollmentGroup(group('fleet-b'))).responseBody;
    const updated = (
      await service.createOrUpdateEnrollmentGroup({ ...first, provisioningStatus: 'disabled' })
    ).responseBody;
    expect(updated.provisioningStatus).toBe('disabled');
    expect(updated.etag).not.toBe(first.etag);
    expect(updated.attestation).toEqual(first.attestation);
    expect(updated.createdDateTimeUtc).toBe(first.createdDateTimeUtc);
    await expect(
      service.createOrUpdateEnrollmentGroup({ ...first, provisioningStatus: 'enabled' }),
    ).rejects.toMatchObject({
      name: 'InvalidEtagError',
    });
    await expect(service.deleteEnrollmentGroup('fleet-b', first.etag!)).rejects.toMatchObject({
      name: 'InvalidEtagError',
    });
    await service.deleteEnrollmentGroup(updated);
    await expect(service.getEnrollmentGroup('fleet-b')).rejects.toMatchObject({
      responseBody: expect.stringContaining('404000'),
    });
  });

  it('refuses what the sandbox does not serve or cannot accept with 400', async () => {
    await expect(
      service.createOrUpdateEnrollmentGroup(group('x509-group', { attestation: { type: 'x509' } as never })),
    ).rejects.toMatchObject({ name: 'ArgumentError' });
    await expect(
      service.createOrUpdateEnrollmentGroup(
        group('bad-keys', {
          attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: 'short', secondaryKey: '' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ArgumentError' });
    await expect(service.createOrUpdateEnrollmentGroup(group('bad id!'))).rejects.toMatchObject({
      name: 'ArgumentError',
    });
  });

  it('queries groups page by page and reports registration states of a group', async () => {
    for (const id of ['q-1', 'q-2', 'q-3']) await service.createOrUpdateEnrollmentGroup(group(id));
    const query = service.createEnrollmentGroupQuery({ query: '*' }, 2);
    const ids: string[] = [];
    let pages = 0;
    // The SDK's promise form of next() ignores the stored token unless it is passed back explicitly.
    while (query.hasMoreResults && pages < 10) {
      const page = await query.next(query.continuationToken as unknown as string);
      pages++;
      ids.push(...(page.responseBody as unknown as EnrollmentGroup[]).map((g) => g.enrollmentGroupId));
    }
    expect(ids).toEqual(expect.arrayContaining(['q-1', 'q-2', 'q-3']));
    expect(pages).toBe(Math.ceil(ids.length / 2));

    const registrationId = 'q-device';
    await registerWithSymmetricKey({
      provisioningHost: dps.hostName,
      idScope: dps.idScope,
      registrationId,
      symmetricKey: dps.deviceKey('q-1', registrationId),
      ca: dps.caPem,
    });
    const state = (await service.getDeviceRegistrationState(registrationId)).responseBody;
    expect(state).toMatchObject({ registrationId, deviceId: registrationId, status: 'assigned' });
    const states = await service
      .createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, 'q-1')
      .next();
    expect(
      (states.responseBody as unknown as { registrationId: string }[]).map((s) => s.registrationId),
    ).toEqual([registrationId]);
    await service.deleteDeviceRegistrationState(registrationId);
    await expect(service.getDeviceRegistrationState(registrationId)).rejects.toBeDefined();
  });

  it('refuses a client signing with a wrong key with 401 (UnauthorizedError)', async () => {
    const wrong = dps.serviceConnectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32).toString('base64')}`,
    );
    const intruder = createProvisioningServiceClient(wrong, { ca: dps.caPem });
    await expect(intruder.getEnrollmentGroup('fleet-a')).rejects.toMatchObject({ name: 'UnauthorizedError' });
  });
});
