import type { JsonObject } from '../../../../cloud/src/model/json';
import type { ObservedHybridConnection } from '../../../../cloud/src/model/observed';
import type { NamespaceSettingsInput } from '../../../../cloud/src/namespace-settings';
import { buildFleetView } from '../../../../cloud/src/plan/view';
import type { ControllerSettings } from '../../../../cloud/src/settings';
import { locationDevice, moduleTwin, observedOf, testSettings } from '../../../support/controller-fixtures';

const HOSTS = new Map([
  ['relay-east', 'relay-east.servicebus.windows.net'],
  ['relay-west', 'relay-west.servicebus.windows.net'],
]);
const TWO = { sql: '10.0.0.5:1433', panel: '127.0.0.1:8080' };
const META = (loc: string) =>
  JSON.stringify({
    managedBy: 'hybrid-relay-fleet/fleet-controller',
    controller: 'default',
    location: loc,
    deviceId: loc,
  });
const hcIn = (namespace: string, loc: string): ObservedHybridConnection => ({
  name: `hrf-${loc}`,
  userMetadata: META(loc),
  namespace,
});

function settingsWith(
  namespaces: NamespaceSettingsInput[] = [{ name: 'relay-east' }, { name: 'relay-west' }],
) {
  return testSettings({ namespaces } as unknown as Partial<ControllerSettings>);
}

function place(
  settings: ControllerSettings,
  locations: Array<string | { id: string; services?: Record<string, string>; tags?: JsonObject }>,
  hybridConnections: ObservedHybridConnection[] = [],
  forwarders: Record<string, JsonObject> = {},
) {
  const devices = locations.map((l) =>
    typeof l === 'string'
      ? locationDevice(l, TWO)
      : locationDevice(l.id, l.services ?? TWO, {}, l.tags ?? {}),
  );
  const modules = Object.entries(forwarders).map(([id, desired]) =>
    moduleTwin(id, 'relay-forwarder', desired),
  );
  const view = buildFleetView(
    observedOf({ devices, modules, hybridConnections, namespaceHosts: HOSTS }),
    settings,
  );
  const of = (id: string) => view.placement.places.get(id)?.namespace;
  return { view, of, placement: view.placement };
}

describe('namespace placement (pure)', () => {
  it('spreads newcomers over the namespaces by fill, and reports each namespace use', () => {
    const { of, placement } = place(settingsWith(), ['a1', 'a2', 'a3', 'a4']);
    expect(['a1', 'a2', 'a3', 'a4'].map(of)).toEqual([
      'relay-east',
      'relay-west',
      'relay-east',
      'relay-west',
    ]);
    // 2 listeners + 2 routes × 1 connection each = 4 per location.
    expect(placement.use).toEqual([
      expect.objectContaining({
        name: 'relay-east',
        hybridConnections: 2,
        locations: 2,
        connectionBudget: 8,
      }),
      expect.objectContaining({
        name: 'relay-west',
        hybridConnections: 2,
        locations: 2,
        connectionBudget: 8,
      }),
    ]);
    expect(placement.use[0]).toMatchObject({ maxHybridConnections: 10_000, maxConnections: 5_000 });
    expect(placement.places.get('a2')).toEqual({
      namespace: 'relay-west',
      host: 'relay-west.servicebus.windows.net',
      exists: false,
    });
  });

  it('balances by connection budget too: a location with many services weighs more than one hybrid connection', () => {
    const settings = settingsWith([
      { name: 'relay-east', maxConnections: 100 },
      { name: 'relay-west', maxConnections: 100 },
    ]);
    const many = Object.fromEntries([...Array(20).keys()].map((i) => [`s${i}`, `10.0.0.${i + 1}:80`]));
    // big (22 connections) lands in east; small ones (4 each) go west until west would pass east's 22.
    const small = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
    const { of } = place(settings, [{ id: 'big', services: many }, ...small]);
    expect(of('big')).toBe('relay-east');
    expect(small.map(of)).toEqual([
      'relay-west',
      'relay-west',
      'relay-west',
      'relay-west',
      'relay-west',
      'relay-west',
      'relay-east',
    ]);
  });

  it('keeps a location in the namespace that holds its hybrid connection, even when the other is emptier', () => {
    const existing = ['a1', 'a2', 'a3'].map((l) => hcIn('relay-west', l));
    const { of, placement } = place(settingsWith(), ['a1', 'a2', 'a3', 'b1'], existing);
    expect(['a1', 'a2', 'a3'].map(of)).toEqual(['relay-west', 'relay-west', 'relay-west']);
    expect(of('b1')).toBe('relay-east');
    expect(placement.places.get('a1')!.exists).toBe(true);
  });

  it('learns a placement from the status tag when the hybrid connection is gone, and from the forwarder entry when both are', () => {
    const { of } = place(
      settingsWith(),
      [
        { id: 'tagged', tags: { relayStatus: { location: 'tagged', namespace: 'relay-west', ports: {} } } },
        'entry',
      ],
      [],
      {
        entry: {
          hybridConnections: {
            'hrf-entry': { namespace: 'relay-west.servicebus.windows.net', path: 'hrf-entry' },
          },
        },
      },
    );
    expect(of('tagged')).toBe('relay-west');
    expect(of('entry')).toBe('relay-west');
  });

  it('ignores a status tag naming a namespace that is not configured (the location is placed anew)', () => {
    const { of } = place(settingsWith(), [
      { id: 'moved', tags: { relayStatus: { location: 'moved', namespace: 'relay-gone', ports: {} } } },
    ]);
    expect(of('moved')).toBe('relay-east');
  });

  it('with the same name in both namespaces, keeps the one the status tag names', () => {
    const both = [hcIn('relay-east', 'dup'), hcIn('relay-west', 'dup')];
    const tagged = { relayStatus: { location: 'dup', namespace: 'relay-west', ports: {} } };
    expect(place(settingsWith(), [{ id: 'dup', tags: tagged }], both).of('dup')).toBe('relay-west');
    expect(place(settingsWith(), ['dup'], both).of('dup')).toBe('relay-east');
  });

  it('refuses a newcomer with NAMESPACE_CAPACITY when no namespace has room, and never moves a placed location', () => {
    const settings = settingsWith([
      { name: 'relay-east', maxHybridConnections: 2 },
      { name: 'relay-west', maxHybridConnections: 1 },
    ]);
    // Someone else's hybrid connection counts against the namespace too.
    const other: ObservedHybridConnection = { name: 'not-ours', namespace: 'relay-west' };
    const { of, placement } = place(settings, ['a1', 'a2', 'a3'], [other]);
    expect(['a1', 'a2'].map(of)).toEqual(['relay-east', 'relay-east']);
    expect(of('a3')).toBeUndefined();
    const problem = placement.problems.get('a3')![0]!;
    expect(problem).toMatchObject({ code: 'NAMESPACE_CAPACITY', severity: 'error' });
    expect(problem.message).toContain('relay-east 2/2 hybrid connections');
    expect(problem.message).toContain('relay-west 1/1 hybrid connections');

    // Limits lowered below what is placed: the placed stay, only newcomers are refused.
    const lowered = settingsWith([
      { name: 'relay-east', maxHybridConnections: 1 },
      { name: 'relay-west', maxHybridConnections: 1 },
    ]);
    const held = place(lowered, ['a1', 'a2', 'b1'], [hcIn('relay-east', 'a1'), hcIn('relay-east', 'a2')]);
    expect(['a1', 'a2'].map(held.of)).toEqual(['relay-east', 'relay-east']);
    expect(held.of('b1')).toBe('relay-west');
  });

  it('counts the connection limit: listeners of every forwarder device plus each route budget', () => {
    const settings = settingsWith([
      { name: 'relay-east', maxConnections: 7 },
      { name: 'relay-west', maxConnections: 3 },
    ]);
    // 2 listeners + 2 routes = 4: fits only east (7), and a second one fits nowhere.
    const { of, placement } = place(settings, ['a1', 'a2']);
    expect(of('a1')).toBe('relay-east');
    expect(placement.problems.get('a2')?.[0]?.code).toBe('NAMESPACE_CAPACITY');
  });

  it('avoids a namespace where someone else holds the location name', () => {
    const foreign: ObservedHybridConnection = { name: 'hrf-a1', namespace: 'relay-east' };
    const { of, view } = place(settingsWith(), ['a1'], [foreign]);
    expect(of('a1')).toBe('relay-west');
    expect(view.foreign.has('hrf-a1')).toBe(false);
  });

  it('without a namespace list, places everything in the one namespace with no limit and records nothing', () => {
    const view = buildFleetView(
      observedOf({ devices: ['a1', 'a2'].map((l) => locationDevice(l, TWO)) }),
      testSettings(),
    );
    expect([...view.placement.places.values()].map((p) => p.namespace)).toEqual(['', '']);
    expect(view.placement.problems.size).toBe(0);
  });
});
