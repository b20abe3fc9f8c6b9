import type { RelayAPI } from '@azure/arm-relay';
import { armRelayNamespaces } from '../../../cloud/src/adapters/arm-namespaces';
import { armRefsOf } from '../../../cloud/src/cli-namespaces';
import { parseControllerOptions, settingsOfOptions } from '../../../cloud/src/cli-options';
import { resolveSettings } from '../../../cloud/src/settings';

const ENV = {
  IOTHUB_CONNECTION_STRING:
    'HostName=hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
  RELAY_RESOURCE_GROUP: 'rg',
  CONTROLLER_POOLS: '[{"name":"default","ports":"20000-20999","allow":["0.0.0.0/0"]}]',
};
const ID = '/subscriptions/sub-2/resourceGroups/rg-west/providers/Microsoft.Relay/namespaces/relay-west';

describe('fleet-controller --namespaces', () => {
  it('takes names, resource ids and objects with limits; the settings get the limits, the rest stays ARM', () => {
    const r = parseControllerOptions(
      ['--namespaces', `["relay-east", "${ID}", {"name": "relay-north", "maxConnections": 2500}]`],
      { ...ENV, ROUTE_CONNECTION_BUDGET: '3' },
    );
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.options.namespaces).toEqual([
      { name: 'relay-east' },
      { name: 'relay-west', resourceGroup: 'rg-west', subscriptionId: 'sub-2' },
      { name: 'relay-north', maxConnections: 2500 },
    ]);
    expect(r.options.namespace).toBe('');
    const settings = resolveSettings(settingsOfOptions(r.options));
    expect(settings.routeConnectionBudget).toBe(3);
    expect(settings.namespaces).toEqual([
      { name: 'relay-east', maxHybridConnections: 10_000, maxConnections: 5_000 },
      { name: 'relay-west', maxHybridConnections: 10_000, maxConnections: 5_000 },
      { name: 'relay-north', maxHybridConnections: 10_000, maxConnections: 2_500 },
    ]);
  });

  it('keeps --namespace working as before (a list of one is made when the controller starts)', () => {
    const r = parseControllerOptions([], { ...ENV, RELAY_NAMESPACE: 'contoso-relay' });
    expect(r.ok && r.options.namespace).toBe('contoso-relay');
    expect(r.ok && r.options.namespaces).toBeUndefined();
  });

  it('refuses bad entries, both forms at once, and a missing resource group, naming each', () => {
    const r = parseControllerOptions(
      [
        '--namespaces',
        '[{"id": "/subscriptions/x/nope"}, {"name": "relay-east", "maxConnections": "many"}, 7]',
      ],
      { ...ENV, RELAY_RESOURCE_GROUP: '', RELAY_NAMESPACE: 'contoso-relay' },
    );
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('--namespaces[0]: "id" must be /subscriptions/'),
        expect.stringContaining('--namespaces[1]: maxConnections must be a number'),
        expect.stringContaining('--namespaces[2] must be a name, a resource id or an object'),
        expect.stringContaining('not both'),
        expect.stringContaining('--resource-group (or RELAY_RESOURCE_GROUP) is required'),
      ]),
    );
    expect(parseControllerOptions(['--namespaces', 'relay-east'], ENV)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('--namespaces is not JSON')],
    });
  });

  it('settings refuse a namespace name Azure would refuse, a repeated one and a limit below 1', () => {
    expect(() =>
      resolveSettings({
        pools: [{ name: 'default', firstPort: 1, lastPort: 2, allow: ['0.0.0.0/0'] }],
        namespaces: [{ name: 'ab' }, { name: 'relay-east', maxConnections: 0 }, { name: 'RELAY-EAST' }],
      }),
    ).toThrow(
      /namespace "ab": a name is 6-50.*maxConnections must be a whole number.*"RELAY-EAST" is listed twice/,
    );
  });

  it('gives each namespace its own ARM admin, one client per subscription, and refuses lists that disagree', () => {
    const r = parseControllerOptions(['--namespaces', `["relay-east", "${ID}"]`], ENV);
    if (!r.ok) throw new Error(r.problems.join('; '));
    const settings = resolveSettings(settingsOfOptions(r.options));
    const clients: Array<string | undefined> = [];
    const clientOf = (subscription: string | undefined) => {
      clients.push(subscription);
      return {} as RelayAPI;
    };
    const admins = armRelayNamespaces(
      settings,
      armRefsOf(r.options.namespaces!),
      { resourceGroup: 'rg' },
      clientOf,
    );
    expect([...admins.keys()]).toEqual(['relay-east', 'relay-west']);
    expect(clients).toEqual([undefined, 'sub-2']);
    expect(() =>
      armRelayNamespaces(settings, [{ namespace: 'relay-east' }], { resourceGroup: 'rg' }, clientOf),
    ).toThrow(/namespaces differ: relay-west/);
  });
});
