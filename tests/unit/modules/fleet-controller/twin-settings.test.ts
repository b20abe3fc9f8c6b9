import { USAGE } from '../../../../cloud/src/cli-options';
import { desiredSettings, TWIN_SETTINGS } from '../../../../modules/fleet-controller/src/twin-settings';

const ENV = {
  IOTHUB_CONNECTION_STRING:
    'HostName=h.azure-devices.net;SharedAccessKeyName=fleet-controller;SharedAccessKey=a2V5',
  AZURE_SUBSCRIPTION_ID: 's',
  RELAY_RESOURCE_GROUP: 'rg',
  RELAY_NAMESPACE: 'ns',
  GATEWAY_PORT_RANGE_START: '40000',
  GATEWAY_PORT_RANGE_END: '40019',
  GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
};

describe('the controller module twin settings', () => {
  it('maps desired properties onto the controller variables, ignoring metadata and schemaVersion', () => {
    expect(
      desiredSettings(
        {
          $version: 4,
          schemaVersion: 1,
          tokenLifetime: '2h',
          renewBelow: 0.25,
          logLevel: 'debug',
          pollInterval: null,
        },
        [],
        ENV,
      ),
    ).toEqual({
      ok: true,
      overrides: { TOKEN_LIFETIME: '2h', TOKEN_RENEW_BELOW: '0.25', LOG_LEVEL: 'debug' },
    });
  });

  it('refuses names that are not settings (the range and credentials stay in the environment)', () => {
    const r = desiredSettings({ gatewayPortRangeStart: 1, iothubConnectionString: 'x' }, [], ENV);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([
      expect.stringMatching(/^desired\.gatewayPortRangeStart is not a controller setting/),
      expect.stringMatching(/^desired\.iothubConnectionString is not a controller setting/),
    ]);
  });

  it("refuses values the controller's own parser refuses, and objects", () => {
    expect(desiredSettings({ tokenLifetime: 'soon' }, [], ENV)).toEqual({
      ok: false,
      problems: ['--token-lifetime: "soon" is not a duration (e.g. 60s, 5m, 250ms, 4h, 2d)'],
    });
    expect(desiredSettings({ interval: { every: '1m' } }, [], ENV)).toEqual({
      ok: false,
      problems: ['desired.interval must be a string or a number'],
    });
  });

  it('maps only onto variables the controller reads (its usage lists each)', () => {
    const missing = Object.values(TWIN_SETTINGS).filter((v) => !new RegExp(`\\b${v}\\b`).test(USAGE));
    expect(missing).toEqual([]);
  });
});
