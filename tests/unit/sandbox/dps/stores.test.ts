import { EnrollmentGroups, unquoteEtag } from '../../../../sandbox/src/dps/enrollments';
import { OperationTable, OPERATION_RETENTION_MS } from '../../../../sandbox/src/dps/operations';
import { Registrations } from '../../../../sandbox/src/dps/registrations';
import { authenticateService, defaultPolicies } from '../../../../sandbox/src/dps/service-auth';
import { createIotHubSasToken } from '../../../../sandbox/src/iothub/sas';

const status = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    return (err as { status: number }).status;
  }
  return 0;
};

describe('enrollment groups', () => {
  const sym = { type: 'symmetricKey' };

  it('creates with defaults and generated keys, and keeps keys and creation time on update', () => {
    const groups = new EnrollmentGroups(() => new Date('2030-01-01T00:00:00Z'));
    const { record, created } = groups.put('g', { attestation: sym });
    expect(created).toBe(true);
    expect(record).toMatchObject({
      enrollmentGroupId: 'g',
      provisioningStatus: 'enabled',
      capabilities: { iotEdge: false },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
      allocationPolicy: 'hashed',
      createdDateTimeUtc: '2030-01-01T00:00:00.000Z',
    });
    const again = groups.put('G', { ...record, provisioningStatus: 'disabled' }, `"${record.etag}"`);
    expect(again.created).toBe(false);
    expect(again.record.attestation).toEqual(record.attestation);
    expect(again.record.etag).not.toBe(record.etag);
    expect(groups.get('g').provisioningStatus).toBe('disabled');
  });

  it('enforces If-Match on update and delete (412), and 404 for unknown groups', () => {
    const groups = new EnrollmentGroups();
    const { record } = groups.put('g', { attestation: sym });
    expect(status(() => groups.put('g', { attestation: sym }, 'stale'))).toBe(412);
    expect(status(() => groups.put('new', { attestation: sym }, 'some-etag'))).toBe(412);
    expect(status(() => groups.delete('g', 'stale'))).toBe(412);
    expect(groups.put('g', { attestation: sym }, '*').created).toBe(false);
    expect(status(() => groups.get('missing'))).toBe(404);
    expect(status(() => groups.delete('missing'))).toBe(404);
    groups.delete('g', '*');
    expect(groups.list()).toEqual([]);
    expect(record.enrollmentGroupId).toBe('g');
  });

  it.each([
    ['a non-object body', 'x'],
    ['x509 attestation', { attestation: { type: 'x509' } }],
    ['short keys', { attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: 'YWJj' } } }],
    ['a mismatched id', { enrollmentGroupId: 'other', attestation: sym }],
    ['a bad status', { attestation: sym, provisioningStatus: 'paused' }],
    ['bad tags', { attestation: sym, initialTwin: { tags: [1] } }],
  ])('refuses %s with 400', (_what, body) => {
    expect(status(() => new EnrollmentGroups().put('g', body))).toBe(400);
  });

  it('unquotes etags', () => {
    expect(unquoteEtag('W/"abc"')).toBe('abc');
    expect(unquoteEtag('"abc"')).toBe('abc');
    expect(unquoteEtag(undefined)).toBeUndefined();
  });
});

describe('registrations and operations', () => {
  it('keeps the first creation time across attempts and drops a deleted group', () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const regs = new Registrations(() => now);
    const seen: string[] = [];
    regs.onRecord((r) => seen.push(r.status));
    regs.record({ registrationId: 'Dev', enrollmentGroupId: 'g', status: 'assigned' });
    now = new Date('2030-01-02T00:00:00Z');
    const second = regs.record({ registrationId: 'dev', enrollmentGroupId: 'g', status: 'disabled' });
    expect(second.createdDateTimeUtc).toBe('2030-01-01T00:00:00.000Z');
    expect(second.lastUpdatedDateTimeUtc).toBe('2030-01-02T00:00:00.000Z');
    expect(seen).toEqual(['assigned', 'disabled']);
    expect(status(() => regs.delete('dev', 'stale'))).toBe(412);
    regs.deleteGroup('G');
    expect(regs.list()).toEqual([]);
  });

  it('finds operations only for their registration and prunes old ones without a timer', () => {
    let now = 0;
    const ops = new OperationTable(() => now);
    const op = ops.start('dev');
    expect(ops.find(op.operationId, 'DEV')).toBe(op);
    expect(ops.find(op.operationId, 'other')).toBeUndefined();
    now = OPERATION_RETENTION_MS + 1;
    ops.start('dev-2');
    expect(ops.find(op.operationId, 'dev')).toBeUndefined();
    expect(ops.size).toBe(1);
  });
});

describe('service authentication', () => {
  const policies = defaultPolicies();
  const owner = policies[0]!;
  const hosts = ['localhost:1234', 'sandbox-dps.azure-devices-provisioning.net'];
  const future = Math.floor(Date.now() / 1000) + 600;

  it('accepts a policy token for any of the host names', () => {
    for (const host of hosts) {
      const t = createIotHubSasToken(host, owner.secondaryKey, future, owner.keyName);
      expect(authenticateService(t, policies, hosts).keyName).toBe('provisioningserviceowner');
    }
  });

  it.each([
    ['no header', undefined],
    ['another host', createIotHubSasToken('other:1', owner.primaryKey, future, owner.keyName)],
    ['an unknown policy', createIotHubSasToken(hosts[0]!, owner.primaryKey, future, 'nobody')],
    [
      'a wrong key',
      createIotHubSasToken(hosts[0]!, Buffer.alloc(32).toString('base64'), future, owner.keyName),
    ],
    ['an expired token', createIotHubSasToken(hosts[0]!, owner.primaryKey, 1000, owner.keyName)],
  ])('refuses %s with 401', (_what, header) => {
    expect(status(() => authenticateService(header, policies, hosts))).toBe(401);
  });
});
