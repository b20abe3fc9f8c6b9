import { buildSnapshot } from '../../../../cloud/src/status/snapshot';
import { FIXTURE_NOW_MS, fixtureReading } from '../../../support/status-fixtures';

const OPTIONS = { forwarderModuleId: 'relay-forwarder', gatewayModuleId: 'relay-gateway' };

describe('buildSnapshot', () => {
  const { snapshot, counters } = buildSnapshot(fixtureReading(), OPTIONS, FIXTURE_NOW_MS);
  const location = (id: string) => snapshot.locations.find((l) => l.id === id)!;

  it('lists every location: tagged ones, a forwarder without tags, one whose forwarder is not deployed', () => {
    expect(snapshot.locations.map((l) => [l.id, l.deviceId, l.tagged])).toEqual([
      ['depot', 'depot', true],
      ['lab-box', 'lab-box', false],
      ['new-site', 'new-site', true],
      ['plant-7', 'Plant-7-Edge', true],
    ]);
    expect(location('new-site').listeners).toEqual({ state: 'no forwarder', online: 0, total: 0 });
  });

  it("leaves the controller's SNI route out of the location its placeholder target names", () => {
    const withSni = buildSnapshot(fixtureReading({ withSniRoute: true }), OPTIONS, FIXTURE_NOW_MS).snapshot;
    const plant = (s: typeof snapshot) => s.locations.find((l) => l.id === 'plant-7')!;
    expect(plant(withSni).services).toEqual(plant(snapshot).services);
  });

  it('shows the server name the controller assigned beside the port', () => {
    const reading = fixtureReading();
    const devices = reading.devices.map((d) =>
      d.deviceId === 'Plant-7-Edge'
        ? {
            ...d,
            tags: {
              ...d.tags,
              relayStatus: {
                ...(d.tags.relayStatus as object),
                names: { web: 'web.plant-7.relay.contoso.com' },
                sniPort: 443,
              },
            },
          }
        : d,
    );
    const named = buildSnapshot({ ...reading, devices }, OPTIONS, FIXTURE_NOW_MS).snapshot;
    const services = named.locations.find((l) => l.id === 'plant-7')!.services;
    expect(services.find((s) => s.name === 'web')).toMatchObject({
      serverName: 'web.plant-7.relay.contoso.com',
      sniPort: 443,
      publicPort: 20001,
    });
    expect(services.find((s) => s.name === 'sql')!.serverName).toBeUndefined();
  });

  it('joins a location with the controller allocation, its forwarder and the gateway routes', () => {
    const plant = location('plant-7');
    expect(plant).toMatchObject({
      pool: 'default',
      state: 'ok',
      hybridConnection: 'hrf-plant-7',
      publicHost: 'relay.contoso.com',
      listeners: { state: 'online', online: 2, total: 2 },
      tokenExpiresAt: '2026-03-01T15:30:00.000Z',
      tokenExpiresInS: 3.5 * 3600,
      forwarder: {
        connected: true,
        version: '0.1.0',
        config: { status: 'applied', version: 4 },
        reconnects: 1,
      },
    });
    expect(plant.services).toEqual([
      {
        name: 'sql',
        target: '10.0.0.5:1433',
        publicPort: 20000,
        forwarderStatus: 'enabled',
        routes: [{ gateway: 'gw-1', route: 'plant-7_sql', status: 'listening', port: 20000 }],
        listeningRoutes: 1,
        active: 2,
        totals: {
          connections: 10,
          bytesFromClients: 1000,
          bytesToClients: 5000,
          errors: 0,
          errorsByReason: {},
          startupErrors: 0,
        },
      },
      expect.objectContaining({
        name: 'web',
        publicPort: 20001,
        totals: expect.objectContaining({ errors: 1 }),
      }),
    ]);
  });

  it('shows problems, a refused version and a relay that is not answering', () => {
    const depot = location('depot');
    expect(depot.state).toBe('error');
    expect(depot.problems).toEqual([{ code: 'INVALID_SERVICE', message: 'bad: target must be host:port' }]);
    expect(depot.listeners).toEqual({ state: 'connecting', online: 0, total: 1 });
    expect(depot.forwarder).toMatchObject({
      connected: false,
      reason: { code: 'RELAY_NETWORK', message: 'connect ETIMEDOUT' },
      config: { status: 'refused', version: 2, refused: { version: 3, problemCount: 1 } },
    });
    expect(depot.tokenExpiresInS).toBe(600);
    // Declared but invalid: listed without a port or route, so a person sees it is missing.
    expect(depot.services.find((s) => s.name === 'bad')).toEqual({
      name: 'bad',
      target: 'nope',
      routes: [],
      listeningRoutes: 0,
      active: 0,
    });
    expect(snapshot.refusedConfigs).toEqual([
      {
        deviceId: 'depot',
        moduleId: 'relay-forwarder',
        location: 'depot',
        version: 3,
        at: '2026-03-01T11:58:00.000Z',
        problemCount: 1,
        problems: [
          { path: '/hybridConnections/hrf-depot/services/api/target', message: 'must be host:port' },
        ],
      },
    ]);
  });

  it('matches a hand-configured forwarder to gateway routes by the hybrid connections it listens on', () => {
    const lab = location('lab-box');
    expect(lab.listeners).toEqual({ state: 'partial', online: 1, total: 2 });
    expect(lab.services[0]).toMatchObject({
      name: 'http',
      publicPort: 8443,
      listeningRoutes: 0,
      routes: [
        {
          gateway: 'gw-1',
          route: 'manual',
          status: 'refused',
          reason: { code: 'PORT_IN_USE', message: 'port 8443 is in use' },
        },
      ],
    });
  });

  it('summarises gateways and the fleet', () => {
    expect(snapshot.gateways).toEqual([
      {
        deviceId: 'gw-1',
        pool: 'default',
        connected: true,
        version: '0.1.0',
        config: { status: 'applied', version: 7, receivedVersion: 7 },
        connections: { active: 2, max: 5000 },
        routes: 4,
        listeningRoutes: 3,
        troubledRoutes: [
          {
            gateway: 'gw-1',
            route: 'manual',
            status: 'refused',
            port: 8443,
            reason: { code: 'PORT_IN_USE', message: 'port 8443 is in use' },
          },
        ],
      },
    ]);
    expect(snapshot.totals).toEqual({
      locations: 4,
      services: 6,
      listenersOnline: 3,
      listeners: 5,
      activeConnections: 2,
      gateways: 1,
      refusedConfigs: 1,
      // Both forwarder tokens (3.5 h and 10 min left) are within the default 36 h renewal margin.
      tokensExpiring: 2,
      errorsByReason: { 'not-allowed': 2, 'target-refused': 1 },
      startupErrors: 0,
    });
  });

  it('gives the history one cumulative sample per gateway route, attributed to its location', () => {
    expect(counters).toEqual(
      expect.arrayContaining([
        {
          key: 'gw-1/plant-7_sql',
          epoch: '2026-03-01T10:00:00.000Z',
          location: 'plant-7',
          active: 2,
          counters: { bytes: 6000, errors: 0, connections: 10 },
        },
        expect.objectContaining({
          key: 'gw-1/depot_api',
          location: 'depot',
          counters: { bytes: 30, errors: 2, connections: 1 },
        }),
        expect.objectContaining({ key: 'gw-1/manual', location: 'lab-box' }),
      ]),
    );
  });

  it('flags tokens within the renewal margin it is given, and counts them', () => {
    // 1 h margin: plant-7's token (3.5 h left) is fine, depot's (10 min left) should have been renewed already.
    const { snapshot: s } = buildSnapshot(
      fixtureReading(),
      { ...OPTIONS, tokenWarnBelowMs: 3_600_000 },
      FIXTURE_NOW_MS,
    );
    const of = (id: string) => s.locations.find((l) => l.id === id)!;
    expect(of('plant-7').tokenExpiring).toBe(false);
    expect(of('depot').tokenExpiring).toBe(true);
    expect(of('new-site').tokenExpiring).toBeUndefined();
    expect(s.totals.tokensExpiring).toBe(1);
    expect(s.tokenWarnBelowS).toBe(3600);
  });

  it('shows a location served by two forwarder devices as one card listing the replica', () => {
    const reading = fixtureReading();
    const primary = reading.modules.find((m) => m.deviceId === 'Plant-7-Edge')!;
    const replicaReported = structuredClone(primary.reported) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    replicaReported.hybridConnections['hrf-plant-7'].onlineListeners = 1;
    replicaReported.hybridConnections['hrf-plant-7'].status = 'partial';
    replicaReported.hybridConnections['hrf-plant-7'].services.sql.counters.active = 5;
    const plant = reading.devices.find((d) => d.deviceId === 'Plant-7-Edge')!;
    const withReplica = {
      devices: [
        ...reading.devices.map((d) =>
          d === plant
            ? {
                ...d,
                tags: {
                  ...d.tags,
                  relayStatus: { ...(d.tags.relayStatus as object), replicas: ['plant-7-b'] },
                },
              }
            : d,
        ),
        {
          deviceId: 'plant-7-b',
          tags: {
            relay: { role: 'location', location: 'plant-7' },
            relayStatus: { ...(plant.tags.relayStatus as object), state: 'ok', replicaOf: 'Plant-7-Edge' },
          },
        },
      ],
      modules: [...reading.modules, { ...primary, deviceId: 'plant-7-b', reported: replicaReported }],
    };
    const { snapshot: s } = buildSnapshot(withReplica, OPTIONS, FIXTURE_NOW_MS);
    expect(s.locations.filter((l) => l.id === 'plant-7').map((l) => l.deviceId)).toEqual(['Plant-7-Edge']);
    expect(s.locations.find((l) => l.id === 'plant-7')!.replicas).toEqual([
      {
        deviceId: 'plant-7-b',
        state: 'ok',
        connected: true,
        listeners: { state: 'partial', online: 1, total: 2 },
        tokenExpiresAt: '2026-03-01T15:30:00.000Z',
        tokenExpiring: true,
        active: 5,
      },
    ]);
    // The fleet's listener figures count every forwarder, replicas included.
    expect(s.totals.listeners).toBe(snapshot.totals.listeners + 2);
    expect(s.totals.locations).toBe(snapshot.totals.locations);
  });

  it('shows the Relay namespace a location was placed in (several namespaces)', () => {
    const reading = fixtureReading();
    expect(location('plant-7')).not.toHaveProperty('namespace');
    const placed = {
      ...reading,
      devices: reading.devices.map((d) =>
        d.deviceId === 'Plant-7-Edge'
          ? {
              ...d,
              tags: {
                ...d.tags,
                relayStatus: { ...(d.tags.relayStatus as object), namespace: 'relay-west' },
              },
            }
          : d,
      ),
    };
    const card = buildSnapshot(placed, OPTIONS, FIXTURE_NOW_MS).snapshot.locations.find(
      (l) => l.id === 'plant-7',
    )!;
    expect(card.namespace).toBe('relay-west');
  });

  it('reads an empty hub as an empty fleet', () => {
    const empty = buildSnapshot({ devices: [], modules: [] }, OPTIONS, 0);
    expect(empty.snapshot.locations).toEqual([]);
    expect(empty.snapshot.totals.locations).toBe(0);
    expect(empty.counters).toEqual([]);
  });
});
