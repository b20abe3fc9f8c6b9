import { resolve } from 'node:path';
import { formatIotHubBanner, parseIotHubMainArgs } from '../../../../sandbox/src/iothub-main';

describe('iothub-main arguments', () => {
  it('reads flags over the environment', () => {
    expect(
      parseIotHubMainArgs(['--port', '8443', '--hub-name', 'demo-hub', '--json'], {
        SANDBOX_STATE_DIR: '/tmp/s',
      }),
    ).toEqual({
      port: 8443,
      stateDir: '/tmp/s',
      hubName: 'demo-hub',
      json: true,
    });
    expect(parseIotHubMainArgs([], { SANDBOX_IOTHUB_PORT: '9000' })).toEqual({
      port: 9000,
      stateDir: resolve('.sandbox-state'),
      hubName: 'sandbox-hub',
      json: false,
    });
  });

  it('throttles like a tier when asked (flag or environment)', () => {
    expect(parseIotHubMainArgs(['--throttle-tier', 'S1'], {}).throttle).toEqual({ tier: 'S1', units: 1 });
    expect(
      parseIotHubMainArgs([], { SANDBOX_IOTHUB_THROTTLE_TIER: 's3', SANDBOX_IOTHUB_THROTTLE_UNITS: '2' })
        .throttle,
    ).toEqual({ tier: 'S3', units: 2 });
    expect(() => parseIotHubMainArgs(['--throttle-tier', 'X1'], {})).toThrow('--throttle-tier: "X1"');
  });

  it.each([[['--port', '70000']], [['--bogus']], [['--hub-name', 'x']], [['--port']]])('refuses %j', (argv) =>
    expect(() => parseIotHubMainArgs(argv, {})).toThrow(),
  );

  it('prints where to connect and what to trust', () => {
    const banner = formatIotHubBanner({
      hubName: 'h',
      hostName: 'localhost:1',
      caFile: '/s/pki/ca.pem',
      ownerConnectionString: 'HostName=localhost:1;SharedAccessKeyName=iothubowner;SharedAccessKey=k',
    });
    expect(banner).toContain('NODE_EXTRA_CA_CERTS=/s/pki/ca.pem');
    expect(banner).toContain('localhost:1');
  });
});
