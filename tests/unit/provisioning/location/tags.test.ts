import { parseDeviceRole } from '../../../../cloud/src/model/location';
import { resolveSettings } from '../../../../cloud/src/settings';
import {
  gatewayDeclaration,
  locationDeclaration,
  parseServiceFlag,
  relayTagValue,
} from '../../../../provisioning/src/location/tags';

const settings = resolveSettings({
  pools: [
    { name: 'default', firstPort: 40000, lastPort: 40099, allow: ['0.0.0.0/0'] },
    { name: 'eu', firstPort: 41000, lastPort: 41099, allow: ['0.0.0.0/0'] },
  ],
});

describe('relay tags written by provision location|gateway', () => {
  it('are exactly what the fleet controller parses as a location', () => {
    const declaration = locationDeclaration({
      registrationId: 'Plant-7',
      pool: 'eu',
      services: [parseServiceFlag('web=10.1.2.3:443'), parseServiceFlag('sql=db.local:1433')],
    });
    const tag = relayTagValue(declaration);
    expect(tag).toEqual({
      role: 'location',
      location: 'plant-7',
      pool: 'eu',
      services: { sql: { target: 'db.local:1433' }, web: { target: '10.1.2.3:443' } },
    });
    const role = parseDeviceRole({ deviceId: 'Plant-7', etag: '1', tags: { relay: tag } }, settings);
    expect(role).toMatchObject({
      kind: 'location',
      spec: {
        deviceId: 'Plant-7',
        locationId: 'plant-7',
        pool: 'eu',
        services: [
          { name: 'sql', target: 'db.local:1433' },
          { name: 'web', target: '10.1.2.3:443' },
        ],
      },
    });
    if (role.kind === 'location') expect(role.spec.invalidServices.size).toBe(0);
  });

  it('are what the controller parses as a gateway (pool optional)', () => {
    expect(relayTagValue(gatewayDeclaration())).toEqual({ role: 'gateway' });
    const tag = relayTagValue(gatewayDeclaration('eu'));
    expect(parseDeviceRole({ deviceId: 'gw-1', etag: '1', tags: { relay: tag } }, settings)).toEqual({
      kind: 'gateway',
      deviceId: 'gw-1',
      pool: 'eu',
    });
  });

  it.each([
    ['sql', /must be name=host:port/],
    ['=10.0.0.1:1', /must be name=host:port/],
    ['bad name=10.0.0.1:1', /service name "bad name"/],
    ['sql=10.0.0.1', /not host:port/],
    ['sql=10.0.0.1:99999', /not host:port/],
    ['sql=unix:/tmp/s', /not host:port/],
    ['web=10.0.0.1:443,expose=dns', /only ",expose=name", ",expose=both" or ",expose=port"/],
    ['web=10.0.0.1:443,expose=name,x', /only ",expose=name"/],
    ['Web_1=10.0.0.1:443,expose=name', /must be a DNS label/],
  ])('refuses --service %s', (flag, message) => {
    expect(() => parseServiceFlag(flag)).toThrow(message);
  });

  it('declare services reached by name (expose) exactly as the controller parses them', () => {
    const declaration = locationDeclaration({
      registrationId: 'plant-7',
      services: [
        parseServiceFlag('web=10.1.2.3:443,expose=name'),
        parseServiceFlag('api=10.1.2.4:8443,expose=both'),
        parseServiceFlag('sql=10.1.2.5:1433,expose=port'),
      ],
    });
    const tag = relayTagValue(declaration);
    expect(tag.services).toEqual({
      api: { target: '10.1.2.4:8443', expose: 'both' },
      sql: { target: '10.1.2.5:1433' },
      web: { target: '10.1.2.3:443', expose: 'name' },
    });
    const role = parseDeviceRole({ deviceId: 'plant-7', etag: '1', tags: { relay: tag } }, settings);
    expect(role.kind === 'location' && role.spec.services).toEqual([
      { name: 'api', target: '10.1.2.4:8443', expose: 'both' },
      { name: 'sql', target: '10.1.2.5:1433' },
      { name: 'web', target: '10.1.2.3:443', expose: 'name' },
    ]);
  });

  it('refuses location ids the controller would refuse, duplicate services, no services, bad pools', () => {
    const sql = parseServiceFlag('sql=10.0.0.1:1433');
    expect(() => locationDeclaration({ registrationId: 'site_1', services: [sql] })).toThrow(
      /pass --location when the registration id does not qualify/,
    );
    expect(() => locationDeclaration({ registrationId: 'a', location: 'Site-A', services: [sql] })).toThrow(
      /lower-case/,
    );
    expect(() => locationDeclaration({ registrationId: 'a', services: [sql, sql] })).toThrow(/given twice/);
    expect(() => locationDeclaration({ registrationId: 'a', services: [] })).toThrow(
      /at least one --service/,
    );
    expect(() => locationDeclaration({ registrationId: 'a', pool: 'x y', services: [sql] })).toThrow(/pool/);
    expect(() => gatewayDeclaration('')).toThrow(/pool/);
  });
});
