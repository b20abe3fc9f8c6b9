import { parseAgentDesired, type ModuleSpec } from '../../../../sandbox/src/edge-agent/deployment-spec';
import { moduleEnvironment } from '../../../../sandbox/src/edge-agent/module-env';

const spec = (() => {
  const parsed = parseAgentDesired({
    schemaVersion: '1.1',
    modules: {
      'relay-forwarder': {
        settings: { image: 'r/relay-forwarder:1' },
        env: {
          LOG_LEVEL: { value: 'info' },
          HEALTH_PORT: { value: '8081' },
          STATS_INTERVAL_MS: { value: '5000' },
        },
      },
    },
  });
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.modules.get('relay-forwarder') as ModuleSpec;
})();

describe('moduleEnvironment', () => {
  it('layers extra env < deployment env < identity < overrides, as IoT Edge would give a module outside the workload API', () => {
    const env = moduleEnvironment({
      spec,
      deviceId: 'site-a',
      hubHostName: 'localhost:4443',
      connectionString: 'HostName=localhost:4443;DeviceId=site-a;ModuleId=relay-forwarder;SharedAccessKey=k',
      trustBundleFile: '/tmp/ca.pem',
      extraEnv: { PATH: '/bin', LOG_LEVEL: 'warn', REPORTED_DEBOUNCE_MS: '50' },
    });
    expect(env).toEqual({
      PATH: '/bin',
      LOG_LEVEL: 'info',
      REPORTED_DEBOUNCE_MS: '50',
      STATS_INTERVAL_MS: '5000',
      IotHubConnectionString:
        'HostName=localhost:4443;DeviceId=site-a;ModuleId=relay-forwarder;SharedAccessKey=k',
      IOTEDGE_DEVICEID: 'site-a',
      IOTEDGE_MODULEID: 'relay-forwarder',
      IOTEDGE_IOTHUBHOSTNAME: 'localhost:4443',
      EdgeModuleCACertificateFile: '/tmp/ca.pem',
      NODE_EXTRA_CA_CERTS: '/tmp/ca.pem',
      // Every module shares the host here: the deployment's fixed health port becomes an ephemeral loopback one.
      HEALTH_PORT: '0',
      HEALTH_BIND_ADDRESS: '127.0.0.1',
    });
    expect(env).not.toHaveProperty('IOTEDGE_WORKLOADURI');
  });

  it('passes no CA variables without a trust bundle, and takes other overrides', () => {
    const env = moduleEnvironment({
      spec,
      deviceId: 'd',
      hubHostName: 'h',
      connectionString: 'cs',
      envOverrides: { STATS_INTERVAL_MS: '0' },
    });
    expect(env).not.toHaveProperty('EdgeModuleCACertificateFile');
    expect(env).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
    expect(env).toMatchObject({ HEALTH_PORT: '8081', STATS_INTERVAL_MS: '0' });
  });
});
