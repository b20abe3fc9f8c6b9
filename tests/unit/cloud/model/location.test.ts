import { parseDeviceRole, readPreviousStatus } from '../../../../cloud/src/model/location';
import { gatewayDevice, locationDevice, testSettings } from '../../../support/controller-fixtures';

const settings = testSettings();

describe('parseDeviceRole', () => {
  it('reads a location: id from tags (or the device id in lower case), pool, sorted valid services', () => {
    const role = parseDeviceRole(
      locationDevice('Berlin-01', {
        sql: '10.0.0.5:1433',
        panel: { target: '127.0.0.1:8080', allow: ['10.0.0.0/8'] },
      }),
      settings,
    );
    expect(role).toEqual({
      kind: 'location',
      spec: {
        deviceId: 'Berlin-01',
        locationId: 'berlin-01',
        pool: 'default',
        services: [
          { name: 'panel', target: '127.0.0.1:8080', allow: ['10.0.0.0/8'] },
          { name: 'sql', target: '10.0.0.5:1433' },
        ],
        invalidServices: new Map(),
      },
    });
    const named = parseDeviceRole(locationDevice('dev-7', {}, { location: 'paris' }), settings);
    expect(named.kind === 'location' && named.spec.locationId).toBe('paris');
  });

  it('reads a gateway and its pool', () => {
    expect(parseDeviceRole(gatewayDevice('gw-1', 'edge'), settings)).toEqual({
      kind: 'gateway',
      deviceId: 'gw-1',
      pool: 'edge',
    });
  });

  it('refuses a device with a bad location id, an unknown pool or a bad role, saying why', () => {
    expect(parseDeviceRole(locationDevice('bad_id', {}), settings)).toMatchObject({
      kind: 'invalid',
      code: 'INVALID_LOCATION_ID',
    });
    expect(parseDeviceRole(locationDevice('x', {}, { location: 'Upper' }), settings)).toMatchObject({
      code: 'INVALID_LOCATION_ID',
    });
    expect(parseDeviceRole(locationDevice('x', {}, { pool: 'nowhere' }), settings)).toMatchObject({
      code: 'UNKNOWN_POOL',
    });
    expect(
      parseDeviceRole({ deviceId: 'x', etag: '', tags: { relay: { role: 'boss' } } }, settings),
    ).toMatchObject({
      code: 'INVALID_RELAY_TAGS',
    });
    expect(parseDeviceRole({ deviceId: 'x', etag: '', tags: {} }, settings)).toEqual({
      kind: 'none',
      deviceId: 'x',
    });
  });

  it('keeps a bad service apart with its reason and the location valid', () => {
    const role = parseDeviceRole(
      locationDevice('site', {
        good: '10.0.0.1:80',
        nohost: ':80',
        wide: { target: '10.0.0.1:81', allow: ['10.0.0.1/8'] },
        extra: { target: '10.0.0.1:82', colour: 'blue' },
      }),
      settings,
    );
    expect(role.kind).toBe('location');
    if (role.kind !== 'location') return;
    expect(role.spec.services.map((s) => s.name)).toEqual(['good']);
    expect([...role.spec.invalidServices.keys()].sort()).toEqual(['extra', 'nohost', 'wide']);
    expect(role.spec.invalidServices.get('wide')).toMatch(/host bits/);
  });
});

describe('readPreviousStatus', () => {
  it('reads the ports the controller wrote and ignores junk', () => {
    expect(
      readPreviousStatus({ relayStatus: { location: 'a', pool: 'p', ports: { x: 20000, y: 'no' } } }),
    ).toEqual({
      locationId: 'a',
      pool: 'p',
      ports: new Map([['x', 20000]]),
    });
    expect(readPreviousStatus({ relayStatus: 'nonsense' })).toBeUndefined();
  });
});
