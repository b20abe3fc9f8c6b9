import { requireSettings, resolveConnection } from '../../../../provisioning/src/cli/settings';

const DPS =
  'HostName=dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=c2VjcmV0';
const HUB = 'HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0';

describe('connection settings', () => {
  it('take flags over environment variables, with defaults for the endpoint and group', () => {
    const env = { DPS_SERVICE_CONNECTION_STRING: DPS, IOTHUB_CONNECTION_STRING: HUB, DPS_ID_SCOPE: '0neENV' };
    expect(resolveConnection({ idScope: '0neFLAG' }, env)).toEqual({
      dpsConnectionString: DPS,
      iothubConnectionString: HUB,
      idScope: '0neFLAG',
      globalEndpoint: 'https://global.azure-devices-provisioning.net',
      group: 'relay-fleet',
    });
    expect(
      resolveConnection(
        {},
        { DPS_GLOBAL_ENDPOINT: 'https://localhost:5/', DPS_ENROLLMENT_GROUP: 'g', DPS_ID_SCOPE: ' ' },
      ),
    ).toEqual({ globalEndpoint: 'https://localhost:5/', group: 'g' });
  });

  it('budget IoT Hub calls for the tier and units given (flag over IOTHUB_TIER), and refuse an unknown tier', () => {
    expect(
      resolveConnection({ iothubTier: 'S2' }, { IOTHUB_TIER: 'S1', IOTHUB_UNITS: '3' }).hubBudget,
    ).toEqual({
      tier: 'S2',
      units: 3,
    });
    expect(resolveConnection({}, {}).hubBudget).toBeUndefined();
    expect(() => resolveConnection({}, { IOTHUB_TIER: 'gold' })).toThrow('--iothub-tier: "gold"');
  });

  it('name every missing setting with its flag and variable', () => {
    expect(() =>
      requireSettings(resolveConnection({}, {}), [
        'dpsConnectionString',
        'iothubConnectionString',
        'idScope',
      ]),
    ).toThrow(
      'missing --dps-connection-string or DPS_SERVICE_CONNECTION_STRING; --iothub-connection-string or IOTHUB_CONNECTION_STRING; --id-scope or DPS_ID_SCOPE',
    );
  });

  it('say what a connection string lacks without echoing it', () => {
    const settings = resolveConnection({ iothubConnectionString: 'HostName=h;SharedAccessKey=c2VjcmV0' }, {});
    let message = '';
    try {
      requireSettings(settings, ['iothubConnectionString']);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'the IoT Hub connection string lacks sharedaccesskeyname (expected HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)',
    );
    expect(message).not.toContain('c2VjcmV0');
  });
});
