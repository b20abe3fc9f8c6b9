import {
  MODULE_ENVIRONMENT_VARIABLES,
  moduleClientFromEnvironment,
  moduleIdentityFromEnvironment,
} from '../../../../../modules/common/src/twin/module-client';

describe('moduleIdentityFromEnvironment', () => {
  it('takes the IoT Edge variables first', () => {
    expect(
      moduleIdentityFromEnvironment({ IOTEDGE_DEVICEID: 'edge-1', IOTEDGE_MODULEID: 'relay-forwarder' }),
    ).toEqual({
      deviceId: 'edge-1',
      moduleId: 'relay-forwarder',
    });
  });

  it('else reads DeviceId and ModuleId from the connection string, never the key', () => {
    const identity = moduleIdentityFromEnvironment({
      EdgeHubConnectionString:
        'HostName=h.azure-devices.net;GatewayHostName=gw;DeviceId=loc-1;ModuleId=relay-forwarder;SharedAccessKey=c2VjcmV0',
    });
    expect(identity).toEqual({ deviceId: 'loc-1', moduleId: 'relay-forwarder' });
    expect(moduleIdentityFromEnvironment({})).toEqual({});
  });
});

describe('moduleClientFromEnvironment', () => {
  it('uses the given variables for the call only, and restores process.env', async () => {
    const before = Object.fromEntries(MODULE_ENVIRONMENT_VARIABLES.map((name) => [name, process.env[name]]));
    const client = await moduleClientFromEnvironment({
      IotHubConnectionString: 'HostName=localhost:1;DeviceId=d;ModuleId=m;SharedAccessKey=c2VjcmV0',
    });
    expect(client).toBeDefined();
    expect(Object.fromEntries(MODULE_ENVIRONMENT_VARIABLES.map((name) => [name, process.env[name]]))).toEqual(
      before,
    );
    // Never opened: nothing to close.
  });

  it('fails like the SDK when neither a connection string nor the IoT Edge variables are there', async () => {
    await expect(moduleClientFromEnvironment({})).rejects.toThrow();
  });
});
