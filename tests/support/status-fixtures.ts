// Literal IoT Hub readings for the status view's tests: two locations (one healthy, one whose forwarder's newest
// configuration was refused), a hand-configured forwarder without tags, and one gateway routing both locations.
import type { FleetReading, ModuleRow } from '../../cloud/src/status/source';
import type { JsonObject } from '../../cloud/src/model/json';

/** When the fixtures were "read": token expiries are relative to it. */
export const FIXTURE_NOW_MS = Date.parse('2026-03-01T12:00:00.000Z');

/** Gateway route counters of the fixture, so tests can move them. */
export interface RouteCounters {
  accepted: number;
  bytesFromClients: number;
  bytesToClients: number;
  refused?: Record<string, number>;
  failed?: Record<string, number>;
  active?: number;
}

/** Options that change the fixture between polls. */
export interface FixtureOptions {
  readonly plantSql?: RouteCounters;
  readonly plantWeb?: RouteCounters;
  readonly depotApi?: RouteCounters;
  readonly gatewayStartedAt?: string;
  /** Adds a `plant-7` service `ssh` with its route. */
  readonly withSsh?: boolean;
  /** Moves `depot_api` to a second relay-gateway instance on gw-1 (`relay-gateway-2`), in `state` (Connected). */
  readonly secondInstance?: { readonly state?: string };
  /** Adds the controller's SNI route, whose placeholder target is plant-7's `sql`. */
  readonly withSniRoute?: boolean;
}

const counters = (c: RouteCounters): JsonObject => ({
  accepted: c.accepted,
  tunneled: c.accepted,
  active: c.active ?? 0,
  ...(c.refused && { refused: c.refused }),
  ...(c.failed && { failed: c.failed }),
  bytesFromClients: c.bytesFromClients,
  bytesToClients: c.bytesToClients,
});

const route = (
  port: number,
  hc: string,
  service: string,
  c: RouteCounters,
  status = 'listening',
): JsonObject => ({
  status,
  port,
  bindAddress: '0.0.0.0',
  hybridConnection: hc,
  service,
  counters: counters(c),
});

/** A reading as IoT Hub would return it for the fixture fleet. */
export function fixtureReading(o: FixtureOptions = {}): FleetReading {
  const plantSql = o.plantSql ?? { accepted: 10, bytesFromClients: 1000, bytesToClients: 5000, active: 2 };
  const plantWeb = o.plantWeb ?? {
    accepted: 3,
    bytesFromClients: 300,
    bytesToClients: 900,
    failed: { 'target-refused': 1 },
  };
  const depotApi = o.depotApi ?? {
    accepted: 1,
    bytesFromClients: 10,
    bytesToClients: 20,
    refused: { 'not-allowed': 2 },
  };
  const gatewayRoutes: JsonObject = {
    'plant-7_sql': route(20000, 'hrf-plant-7', 'sql', plantSql),
    'plant-7_web': route(20001, 'hrf-plant-7', 'web', plantWeb),
    depot_api: route(20002, 'hrf-depot', 'api', depotApi),
    manual: {
      status: 'refused',
      port: 8443,
      bindAddress: '0.0.0.0',
      hybridConnection: 'lab',
      service: 'http',
      reason: { code: 'PORT_IN_USE', message: 'port 8443 is in use' },
      counters: counters({ accepted: 0, bytesFromClients: 0, bytesToClients: 0 }),
    },
  };
  if (o.withSsh)
    gatewayRoutes['plant-7_ssh'] = route(20003, 'hrf-plant-7', 'ssh', {
      accepted: 0,
      bytesFromClients: 0,
      bytesToClients: 0,
    });
  const second: ModuleRow[] = [];
  if (o.secondInstance) {
    second.push({
      deviceId: 'gw-1',
      moduleId: 'relay-gateway-2',
      connectionState: o.secondInstance.state ?? 'Connected',
      reported: {
        module: { name: 'relay-gateway', version: '0.1.0', startedAt: '2026-03-01T10:00:00.000Z' },
        config: { status: 'applied', version: 2, receivedVersion: 2 },
        routes: { depot_api: gatewayRoutes.depot_api! },
        connections: { active: 1, max: 5000 },
      },
    });
    delete gatewayRoutes.depot_api;
  }
  if (o.withSniRoute)
    gatewayRoutes['hrf-sni'] = route(443, 'hrf-plant-7', 'sql', {
      accepted: 50,
      bytesFromClients: 7000,
      bytesToClients: 9000,
    });
  const modules: ModuleRow[] = [
    ...second,
    {
      deviceId: 'gw-1',
      moduleId: 'relay-gateway',
      connectionState: 'Connected',
      reported: {
        module: {
          name: 'relay-gateway',
          version: '0.1.0',
          startedAt: o.gatewayStartedAt ?? '2026-03-01T10:00:00.000Z',
        },
        config: { status: 'applied', version: 7, receivedVersion: 7, appliedAt: '2026-03-01T10:00:01.000Z' },
        routes: gatewayRoutes,
        connections: { active: 2, max: 5000 },
      },
    },
    {
      deviceId: 'Plant-7-Edge',
      moduleId: 'relay-forwarder',
      connectionState: 'Connected',
      reported: {
        module: { name: 'relay-forwarder', version: '0.1.0', startedAt: '2026-03-01T09:00:00.000Z' },
        config: { status: 'applied', version: 4, receivedVersion: 4 },
        hybridConnections: {
          'hrf-plant-7': {
            status: 'listening',
            namespace: 'contoso.servicebus.windows.net',
            path: 'hrf-plant-7',
            onlineListeners: 2,
            listeners: 2,
            tokenExpiresAt: '2026-03-01T15:30:00.000Z',
            reconnects: 1,
            tokenRenewals: 3,
            services: {
              sql: {
                status: 'enabled',
                target: '10.0.0.5:1433',
                counters: { accepted: 10, active: 2, closed: 8, bytesToTarget: 1000, bytesFromTarget: 5000 },
              },
              web: {
                status: 'enabled',
                target: '10.0.0.6:80',
                counters: {
                  accepted: 3,
                  active: 0,
                  closed: 3,
                  refused: { refused: 1 },
                  bytesToTarget: 300,
                  bytesFromTarget: 900,
                },
              },
            },
          },
        },
        drainingTunnels: 0,
      },
    },
    {
      deviceId: 'depot',
      moduleId: 'relay-forwarder',
      connectionState: 'Disconnected',
      reported: {
        module: { name: 'relay-forwarder', version: '0.1.0', startedAt: '2026-03-01T09:30:00.000Z' },
        config: {
          status: 'refused',
          version: 2,
          receivedVersion: 3,
          refused: {
            version: 3,
            at: '2026-03-01T11:58:00.000Z',
            problemCount: 1,
            problems: [
              { path: '/hybridConnections/hrf-depot/services/api/target', message: 'must be host:port' },
            ],
          },
        },
        hybridConnections: {
          'hrf-depot': {
            status: 'connecting',
            namespace: 'contoso.servicebus.windows.net',
            path: 'hrf-depot',
            onlineListeners: 0,
            listeners: 1,
            reason: { code: 'RELAY_NETWORK', message: 'connect ETIMEDOUT' },
            tokenExpiresAt: '2026-03-01T12:10:00.000Z',
            services: {
              api: {
                status: 'enabled',
                target: 'api.depot.local:443',
                counters: { accepted: 1, active: 0, closed: 1, bytesToTarget: 10, bytesFromTarget: 20 },
              },
            },
          },
        },
        drainingTunnels: 0,
      },
    },
    {
      deviceId: 'lab-box',
      moduleId: 'relay-forwarder',
      reported: {
        config: { status: 'applied', version: 1, receivedVersion: 1 },
        hybridConnections: {
          lab: {
            status: 'partial',
            onlineListeners: 1,
            listeners: 2,
            services: { http: { status: 'enabled', target: '127.0.0.1:8080', active: 0 } },
          },
        },
      },
    },
  ];
  const plantServices: JsonObject = { sql: { target: '10.0.0.5:1433' }, web: { target: '10.0.0.6:80' } };
  const plantPorts: JsonObject = { sql: 20000, web: 20001 };
  if (o.withSsh) {
    plantServices.ssh = { target: '10.0.0.7:22' };
    plantPorts.ssh = 20003;
  }
  return {
    devices: [
      { deviceId: 'gw-1', tags: { relay: { role: 'gateway', pool: 'default' } } },
      {
        deviceId: 'Plant-7-Edge',
        tags: {
          relay: { role: 'location', location: 'plant-7', services: plantServices },
          relayStatus: {
            location: 'plant-7',
            pool: 'default',
            hybridConnection: 'hrf-plant-7',
            publicHost: 'relay.contoso.com',
            ports: plantPorts,
            state: 'ok',
          },
        },
      },
      {
        deviceId: 'depot',
        tags: {
          relay: {
            role: 'location',
            services: { api: { target: 'api.depot.local:443' }, bad: { target: 'nope' } },
          },
          relayStatus: {
            location: 'depot',
            pool: 'default',
            hybridConnection: 'hrf-depot',
            ports: { api: 20002 },
            state: 'error',
            problems: { INVALID_SERVICE: 'bad: target must be host:port' },
          },
        },
      },
      // Declared, but its forwarder module is not deployed yet.
      {
        deviceId: 'new-site',
        tags: { relay: { role: 'location', services: { ssh: { target: '10.1.0.1:22' } } } },
      },
    ],
    modules,
  };
}
