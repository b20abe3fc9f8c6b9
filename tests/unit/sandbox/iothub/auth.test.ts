import { HubAuthenticator } from '../../../../sandbox/src/iothub/auth';
import { defaultPolicies } from '../../../../sandbox/src/iothub/policies';
import { Registry } from '../../../../sandbox/src/iothub/registry';
import { createIotHubSasToken } from '../../../../sandbox/src/iothub/sas';

describe('hub authenticator', () => {
  const HOST = 'localhost:4443';
  const now = 1_700_000_000;
  const registry = new Registry();
  const device = registry.putDevice('d1', {}).record;
  const module = registry.putModule('d1', 'm1', {}).record;
  const policies = defaultPolicies();
  const auth = new HubAuthenticator(
    registry,
    () => policies,
    [HOST, 'hub.azure-devices.net'],
    () => now,
  );
  const username = (clientId: string) => `${HOST}/${clientId}/?api-version=2021-04-12&DeviceClientType=x`;
  const token = (resource: string, key: string, expiry = now + 60, skn?: string) =>
    createIotHubSasToken(resource, key, expiry, skn);

  it('accepts a device and a module with their own keys', () => {
    expect(
      auth.authenticateDevice('d1', username('d1'), token(`${HOST}/devices/d1`, device.keys.primaryKey)),
    ).toEqual({
      deviceId: 'd1',
      expirySec: now + 60,
    });
    expect(
      auth.authenticateDevice(
        'd1/m1',
        username('d1/m1'),
        token(`LOCALHOST:4443/devices/d1/modules/m1`, module.keys.secondaryKey),
      ),
    ).toMatchObject({ deviceId: 'd1', moduleId: 'm1' });
  });

  it.each([
    [
      'expired',
      () =>
        auth.authenticateDevice(
          'd1',
          username('d1'),
          token(`${HOST}/devices/d1`, device.keys.primaryKey, now),
        ),
    ],
    [
      'bad-signature',
      () =>
        auth.authenticateDevice(
          'd1/m1',
          username('d1/m1'),
          token(`${HOST}/devices/d1/modules/m1`, device.keys.primaryKey),
        ),
    ],
    [
      'bad-token',
      () =>
        auth.authenticateDevice(
          'd1/m1',
          username('d1/m1'),
          token(`${HOST}/devices/d1`, device.keys.primaryKey),
        ),
    ],
    [
      'bad-username',
      () =>
        auth.authenticateDevice('d1', username('d2'), token(`${HOST}/devices/d1`, device.keys.primaryKey)),
    ],
    [
      'unknown-identity',
      () =>
        auth.authenticateDevice('d9', username('d9'), token(`${HOST}/devices/d9`, device.keys.primaryKey)),
    ],
    ['bad-client-id', () => auth.authenticateDevice('a/b/c', username('a/b/c'), 'x')],
  ])('refuses %s', (failure, attempt) => expect(attempt()).toEqual({ failure }));

  it('accepts a device token signed by a policy with DeviceConnect only', () => {
    const devicePolicy = policies.find((p) => p.keyName === 'device');
    const servicePolicy = policies.find((p) => p.keyName === 'service');
    const resource = `${HOST}/devices/d1`;
    expect(
      auth.authenticateDevice(
        'd1',
        username('d1'),
        token(resource, devicePolicy?.primaryKey ?? '', now + 60, 'device'),
      ),
    ).toMatchObject({
      deviceId: 'd1',
    });
    expect(
      auth.authenticateDevice(
        'd1',
        username('d1'),
        token(resource, servicePolicy?.primaryKey ?? '', now + 60, 'service'),
      ),
    ).toEqual({
      failure: 'bad-signature',
    });
  });

  it('checks service tokens: audience, policy signature and rights', () => {
    const owner = policies[0];
    const read = policies.find((p) => p.keyName === 'registryRead');
    expect(
      auth.authenticateService(token(HOST, owner?.primaryKey ?? '', now + 60, 'iothubowner'), [
        'RegistryWrite',
      ]).keyName,
    ).toBe('iothubowner');
    expect(
      auth.authenticateService(
        token('hub.azure-devices.net', owner?.primaryKey ?? '', now + 60, 'iothubowner'),
        ['RegistryRead'],
      ),
    ).toBeDefined();
    expect(() =>
      auth.authenticateService(token('other:1', owner?.primaryKey ?? '', now + 60, 'iothubowner'), [
        'RegistryRead',
      ]),
    ).toThrow(/audience/);
    expect(() =>
      auth.authenticateService(token(HOST, read?.primaryKey ?? '', now + 60, 'registryRead'), [
        'RegistryWrite',
      ]),
    ).toThrow(/lacks/);
    expect(() => auth.authenticateService(undefined, ['RegistryRead'])).toThrow(
      expect.objectContaining({ status: 401 }),
    );
  });
});
