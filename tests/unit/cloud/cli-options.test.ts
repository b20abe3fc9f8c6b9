import {
  parseControllerOptions,
  parseDurationMs,
  parseNamespaceGrowthVariables,
  settingsOfOptions,
} from '../../../cloud/src/cli-options';
import { resolveSettings } from '../../../cloud/src/settings';

const ENV = {
  IOTHUB_CONNECTION_STRING:
    'HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
  RELAY_RESOURCE_GROUP: 'rg',
  RELAY_NAMESPACE: 'contoso-relay',
  CONTROLLER_POOLS:
    '[{"name":"default","ports":"20000-20999","allow":["0.0.0.0/0","::/0"],"publicHost":"gw.contoso.com"}]',
};

describe('fleet-controller options', () => {
  it('reads everything from the environment, with flags winning', () => {
    const r = parseControllerOptions(['--token-lifetime', '2h', '--once'], {
      ...ENV,
      TOKEN_LIFETIME: '8h',
      POLL_INTERVAL: '0',
    });
    expect(r).toEqual({
      ok: true,
      options: {
        iothubConnectionString: ENV.IOTHUB_CONNECTION_STRING,
        subscriptionId: ENV.AZURE_SUBSCRIPTION_ID,
        resourceGroup: 'rg',
        namespace: 'contoso-relay',
        pools: [
          {
            name: 'default',
            firstPort: 20000,
            lastPort: 20999,
            allow: ['0.0.0.0/0', '::/0'],
            publicHost: 'gw.contoso.com',
          },
        ],
        once: true,
        tokenLifetimeMs: 7_200_000,
        pollIntervalMs: 0,
        leaseDeviceId: 'fleet-controller-lease',
      },
    });
  });

  it('accepts pools as an object keyed by name', () => {
    const r = parseControllerOptions(
      ['--pools', '{"edge":{"ports":"1000-1001","allow":["10.0.0.0/8"],"bindAddress":"::"}}'],
      ENV,
    );
    expect(r.ok && r.options.pools).toEqual([
      { name: 'edge', firstPort: 1000, lastPort: 1001, allow: ['10.0.0.0/8'], bindAddress: '::' },
    ]);
  });

  it("takes a pool's gatewayModules and refuses one out of range", () => {
    const r = parseControllerOptions(
      ['--pools', '[{"name":"big","ports":"20000-22999","allow":["0.0.0.0/0"],"gatewayModules":22}]'],
      ENV,
    );
    expect(r.ok && r.options.pools[0]!.gatewayModules).toBe(22);
    const bad = parseControllerOptions(
      ['--pools', '[{"name":"big","ports":"20000-22999","allow":["0.0.0.0/0"],"gatewayModules":0}]'],
      ENV,
    );
    // The option parser passes it on; resolveSettings (run before the controller starts: exit 64) refuses it.
    expect(() => bad.ok && resolveSettings(settingsOfOptions(bad.options))).toThrow(
      /gatewayModules must be an integer 1-64/,
    );
  });

  it('lists every problem at once', () => {
    const r = parseControllerOptions(['--interval', 'soon', '--renew-below', '2'], {
      CONTROLLER_POOLS: '[{"name":"x"}]',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        '--iothub-connection-string (or IOTHUB_CONNECTION_STRING) is required',
        '--subscription (or AZURE_SUBSCRIPTION_ID) is required',
        '--resource-group (or RELAY_RESOURCE_GROUP) is required',
        '--namespace (or RELAY_NAMESPACE) is required',
        '--interval: "soon" is not a duration (e.g. 60s, 5m, 250ms, 4h, 2d)',
        '--renew-below must be between 0 and 1',
        '--pools[0] needs "name", "ports": "first-last" and "allow": [CIDR, …]',
      ]),
    );
    expect(r.problems).toHaveLength(7);
  });

  it('reads the token lifetime and renewal margin as durations with a unit, and refuses bare numbers', () => {
    const r = parseControllerOptions(['--token-lifetime', '2d'], { ...ENV, TOKEN_RENEW_MARGIN: '30h' });
    expect(r.ok && [r.options.tokenLifetimeMs, r.options.tokenRenewMarginMs]).toEqual([
      2 * 86_400_000,
      30 * 3_600_000,
    ]);
    const bare = parseControllerOptions(['--token-lifetime', '86400', '--token-renew-margin', '3600'], ENV);
    expect(bare).toEqual({
      ok: false,
      help: false,
      problems: [
        '--token-lifetime: "86400" needs a unit: 86400s, 86400ms, 86400m or 86400h',
        '--token-renew-margin: "3600" needs a unit: 3600s, 3600ms, 3600m or 3600h',
      ],
    });
  });

  it('takes part in leader election by default; --lease off turns it off', () => {
    const on = parseControllerOptions(['--lease-duration', '20s'], ENV);
    expect(on.ok && [on.options.leaseDeviceId, on.options.leaseDurationMs]).toEqual([
      'fleet-controller-lease',
      20_000,
    ]);
    const off = parseControllerOptions([], { ...ENV, LEADER_LEASE: 'off' });
    expect(off.ok && off.options.leaseDeviceId).toBeUndefined();
    expect(parseControllerOptions(['--lease-duration', '10ms'], ENV)).toMatchObject({
      ok: false,
      problems: ['--lease-duration must be at least 1s'],
    });
  });

  it('budgets IoT Hub calls for --iothub-tier / IOTHUB_TIER and its units; unbudgeted without', () => {
    const flags = parseControllerOptions(['--iothub-tier', 's1', '--iothub-units', '2'], ENV);
    expect(flags.ok && flags.options.hubBudget).toEqual({ tier: 'S1', units: 2 });
    const env = parseControllerOptions([], { ...ENV, IOTHUB_TIER: 'S3' });
    expect(env.ok && env.options.hubBudget).toEqual({ tier: 'S3', units: 1 });
    const none = parseControllerOptions([], ENV);
    expect(none.ok && none.options.hubBudget).toBeUndefined();
    expect(parseControllerOptions(['--iothub-tier', 'S4', '--iothub-units', '1.5'], ENV)).toEqual({
      ok: false,
      help: false,
      problems: [
        '--iothub-tier: "S4" is not one of F1, B1, B2, B3, S1, S2, S3',
        '--iothub-units: "1.5" is not a whole number of units >= 1',
      ],
    });
  });

  it('refuses unknown flags and answers --help', () => {
    expect(parseControllerOptions(['--nope'], ENV)).toMatchObject({ ok: false, help: false });
    expect(parseControllerOptions(['-h'], {})).toEqual({ ok: false, help: true, problems: [] });
  });

  it('parses durations', () => {
    expect([
      parseDurationMs('4h'),
      parseDurationMs('90m'),
      parseDurationMs('1.5s'),
      parseDurationMs('250ms'),
      parseDurationMs('2d'),
      parseDurationMs('0'),
      parseDurationMs('250'),
      parseDurationMs('2 weeks'),
    ]).toEqual([14_400_000, 5_400_000, 1500, 250, 172_800_000, 0, undefined, undefined]);
  });

  it('refuses a bare number for every duration flag, naming the form to use (60 once meant 60 ms)', () => {
    const r = parseControllerOptions(
      ['--interval', '60', '--poll-interval', '15', '--lease-duration', '15'],
      ENV,
    );
    expect(r).toMatchObject({
      ok: false,
      problems: [
        '--lease-duration: "15" needs a unit: 15s, 15ms, 15m or 15h',
        '--interval: "60" needs a unit: 60s, 60ms, 60m or 60h',
        '--poll-interval: "15" needs a unit: 15s, 15ms, 15m or 15h',
      ],
    });
    expect(parseControllerOptions(['--interval', '60s', '--poll-interval', '0'], ENV)).toMatchObject({
      ok: true,
      options: { intervalMs: 60_000, pollIntervalMs: 0 },
    });
  });
});

describe('fleet-controller options: --relay-auth', () => {
  it('selects Entra ID with optional user-assigned client ids for each side', () => {
    const r = parseControllerOptions(['--relay-auth', 'entra', '--gateway-client-id', 'gw-id'], {
      ...ENV,
      FORWARDER_CLIENT_ID: 'fwd-id',
    });
    expect(r).toMatchObject({
      ok: true,
      options: { relayAuth: { type: 'entra', forwarderClientId: 'fwd-id', gatewayClientId: 'gw-id' } },
    });
    const sas = parseControllerOptions(['--relay-auth', 'sas'], ENV);
    expect(sas.ok && sas.options.relayAuth).toBeUndefined();
  });

  it('refuses an unknown mode and client ids without entra', () => {
    expect(parseControllerOptions(['--relay-auth', 'aad'], ENV)).toMatchObject({
      ok: false,
      problems: ['--relay-auth: "aad" is not sas or entra'],
    });
    expect(parseControllerOptions(['--gateway-client-id', 'x'], ENV)).toMatchObject({
      ok: false,
      problems: ['--forwarder-client-id and --gateway-client-id need --relay-auth entra'],
    });
  });
});

describe('fleet-controller options: cheap checks before anything runs', () => {
  it('refuses a --default-pool that is not one of --pools, naming them', () => {
    const r = parseControllerOptions(['--default-pool', 'nosuch'], ENV);
    expect(r).toMatchObject({ ok: false, help: false });
    expect(!r.ok && r.problems).toContain(
      '--default-pool (or DEFAULT_POOL) "nosuch" is not one of --pools: default',
    );
    expect(parseControllerOptions(['--default-pool', 'default'], ENV).ok).toBe(true);
  });

  it('refuses a connection string without its parts, without echoing it', () => {
    const r = parseControllerOptions(
      ['--iothub-connection-string', 'HostName=h;SharedAccessKey=c2VjcmV0'],
      ENV,
    );
    const text = r.ok ? '' : r.problems.join('\n');
    expect(text).toContain('lacks SharedAccessKeyName');
    expect(text).not.toContain('c2VjcmV0');
  });

  it('refuses an unknown --log-level; answers --version', () => {
    const r = parseControllerOptions(['--log-level', 'loud'], ENV);
    expect(!r.ok && r.problems.join('\n')).toMatch(/--log-level \(or LOG_LEVEL\) must be one of/);
    expect(parseControllerOptions(['--version'], ENV)).toEqual({
      ok: false,
      help: false,
      version: true,
      problems: [],
    });
  });

  it('reads namespace growth: a count, prefix, region, resource group and a timeout with a unit', () => {
    const r = parseControllerOptions(['--create-namespaces', '3', '--namespace-create-timeout', '15m'], {
      ...ENV,
      CREATED_NAMESPACE_PREFIX: 'contoso-relay-grown',
      CREATED_NAMESPACE_REGION: 'westeurope',
      CREATED_NAMESPACE_RESOURCE_GROUP: 'rg-relay',
    });
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.options.namespaceGrowth).toEqual({
      prefix: 'contoso-relay-grown',
      region: 'westeurope',
      maxCount: 3,
      resourceGroup: 'rg-relay',
      createTimeoutMs: 900_000,
    });
    // `--namespace` alone becomes the list growth places beside.
    const settings = resolveSettings(settingsOfOptions(r.options));
    expect(settings.namespaces?.map((n) => n.name)).toEqual(['contoso-relay']);
    expect(settings.namespaceGrowth).toMatchObject({ maxCount: 3, maxConnections: 5000 });
  });

  it('refuses growth without its prefix and region, a bare timeout, and companions without the count', () => {
    const r = parseControllerOptions(['--create-namespaces', '2', '--namespace-create-timeout', '600'], ENV);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        '--namespace-create-timeout: "600" needs a unit: 600s, 600ms, 600m or 600h',
        '--create-namespaces needs --created-namespace-prefix (or CREATED_NAMESPACE_PREFIX)',
        '--create-namespaces needs --created-namespace-region (or CREATED_NAMESPACE_REGION)',
      ]),
    );
    const stray = parseControllerOptions(['--created-namespace-region', 'westeurope'], ENV);
    expect(stray).toMatchObject({
      ok: false,
      problems: ['--created-namespace-region need --create-namespaces'],
    });
    const off = parseControllerOptions(['--create-namespaces', '0'], ENV);
    expect(off.ok && off.options.namespaceGrowth).toBe(undefined);
    expect(parseControllerOptions(['--create-namespaces', 'two'], ENV)).toMatchObject({
      ok: false,
      problems: ['--create-namespaces must be a whole number (0: create none)'],
    });
  });

  it('reads empty growth variables as unset (the deployment template passes all five, empty when off)', () => {
    const empty = {
      CREATE_NAMESPACES: '',
      CREATED_NAMESPACE_PREFIX: '',
      CREATED_NAMESPACE_REGION: '',
      CREATED_NAMESPACE_RESOURCE_GROUP: '',
      NAMESPACE_CREATE_TIMEOUT: '',
    };
    const off = parseControllerOptions([], { ...ENV, ...empty });
    if (!off.ok) throw new Error(off.problems.join('; '));
    expect(off.options.namespaceGrowth).toBeUndefined();
    // On, with the optional companions empty: the controller's resource group and the 10m default.
    const on = parseControllerOptions([], {
      ...ENV,
      ...empty,
      CREATE_NAMESPACES: '2',
      CREATED_NAMESPACE_PREFIX: 'hrf-grown-abc',
      CREATED_NAMESPACE_REGION: 'westeurope',
    });
    if (!on.ok) throw new Error(on.problems.join('; '));
    expect(on.options.namespaceGrowth).toEqual({
      prefix: 'hrf-grown-abc',
      region: 'westeurope',
      maxCount: 2,
    });
    expect(resolveSettings(settingsOfOptions(on.options)).namespaceGrowth).toMatchObject({
      createTimeoutMs: 600_000,
    });
  });

  it('reads the growth variables alone with the same parser and messages (what deployment:gen checks)', () => {
    const problems: string[] = [];
    expect(
      parseNamespaceGrowthVariables({ CREATE_NAMESPACES: '', CREATED_NAMESPACE_PREFIX: '' }, problems),
    ).toBe(undefined);
    expect(problems).toEqual([]);
    expect(
      parseNamespaceGrowthVariables(
        { CREATE_NAMESPACES: '3', CREATED_NAMESPACE_REGION: 'westeurope', NAMESPACE_CREATE_TIMEOUT: '90' },
        problems,
      ),
    ).toMatchObject({ maxCount: 3, region: 'westeurope' });
    expect(problems).toEqual([
      '--namespace-create-timeout: "90" needs a unit: 90s, 90ms, 90m or 90h',
      '--create-namespaces needs --created-namespace-prefix (or CREATED_NAMESPACE_PREFIX)',
    ]);
  });
});
