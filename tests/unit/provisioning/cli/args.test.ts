import { parseProvisionArgs, USAGE } from '../../../../provisioning/src/cli/args';

describe('parseProvisionArgs', () => {
  it('parses a location with services, location id, pool, output folder and connection flags', () => {
    expect(
      parseProvisionArgs([
        'location',
        'Site-A',
        '--service',
        'sql=10.0.0.5:1433',
        '--service',
        'web=[fd00::5]:443',
        '--location',
        'site-a',
        '--pool',
        'eu',
        '--out',
        'out/a',
        '--trust-bundle',
        'ca.pem',
        '--id-scope',
        '0ne1',
        '--group',
        'g',
        '--json',
      ]),
    ).toEqual({
      kind: 'device',
      registrationId: 'Site-A',
      declaration: {
        role: 'location',
        location: 'site-a',
        pool: 'eu',
        services: [
          { name: 'sql', target: '10.0.0.5:1433' },
          { name: 'web', target: '[fd00::5]:443' },
        ],
      },
      outDir: 'out/a',
      trustBundleFile: 'ca.pem',
      connection: { idScope: '0ne1', group: 'g' },
      json: true,
    });
  });

  it('parses a gateway and deployments', () => {
    expect(parseProvisionArgs(['gateway', 'gw-1', '--pool', 'eu'])).toMatchObject({
      kind: 'device',
      registrationId: 'gw-1',
      declaration: { role: 'gateway', pool: 'eu' },
      json: false,
    });
    expect(
      parseProvisionArgs(['deployments', '--platform', 'arm64v8', '--prefix', 'lab', '--dry-run']),
    ).toEqual({
      kind: 'deployments',
      platform: 'arm64v8',
      prefix: 'lab',
      dryRun: true,
      connection: {},
      json: false,
    });
  });

  it('parses remove', () => {
    expect(parseProvisionArgs(['remove', 'site-a', '--json'])).toEqual({
      kind: 'remove',
      deviceId: 'site-a',
      connection: {},
      json: true,
    });
  });

  it('takes every connection flag on every command, each into its own field', () => {
    const flags = [
      ['--dps-connection-string', 'dps'],
      ['--iothub-connection-string', 'hub'],
      ['--id-scope', 'scope'],
      ['--global-endpoint', 'https://dps.example'],
      ['--group', 'g'],
      ['--pools', '[]'],
      ['--iothub-tier', 'S1'],
      ['--iothub-units', '2'],
    ].flat();
    const connection = {
      dpsConnectionString: 'dps',
      iothubConnectionString: 'hub',
      idScope: 'scope',
      globalEndpoint: 'https://dps.example',
      group: 'g',
      pools: '[]',
      iothubTier: 'S1',
      iothubUnits: '2',
    };
    for (const argv of [
      ['location', 'a', '--service', 's=h:1'],
      ['gateway', 'gw'],
      ['remove', 'a'],
      ['deployments'],
    ])
      expect(parseProvisionArgs([...argv, ...flags])).toMatchObject({ connection });
  });

  it('answers help for no command or --help', () => {
    expect(parseProvisionArgs([])).toEqual({ kind: 'help' });
    expect(parseProvisionArgs(['location', '--help'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('provision location <registrationId>');
  });

  it.each([
    [['deploy'], /unknown command "deploy"/],
    [['location'], /exactly one registration id/],
    [['location', 'a', 'b', '--service', 's=h:1'], /exactly one registration id/],
    [['location', 'a'], /at least one --service/],
    [['gateway', 'gw', '--service', 's=h:1'], /gateway does not take --service/],
    [['deployments', '--pool', 'x'], /deployments does not take --pool/],
    [['deployments', 'extra'], /takes no arguments/],
    [['remove'], /exactly one device id/],
    [['remove', 'a', '--pool', 'p'], /remove does not take --pool/],
    [['location', 'a', '--nope'], /unknown option --nope/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseProvisionArgs(argv)).toThrow(message);
  });
});
