import type { GatewayState } from '../../../../modules/relay-gateway/src/gateway';
import type { RouteState } from '../../../../modules/relay-gateway/src/route';
import {
  gatewayReport,
  gatewayStats,
  reportedRouteStatus,
} from '../../../../modules/relay-gateway/src/twin-report';
import { withDrainedRoutes } from '../../../../modules/relay-gateway/src/twin-module';

function routeState(id: string, overrides: Partial<RouteState> = {}, active = 0): RouteState {
  return {
    id,
    status: 'listening',
    port: 1000,
    bindAddress: '0.0.0.0',
    hybridConnection: 'site-a',
    service: 'sql',
    counters: {
      accepted: 5,
      refused: { 'not-allowed': 2 },
      failed: {},
      tunneled: 4,
      broken: {},
      active,
      bytesFromClients: 10,
      bytesToClients: 20,
    },
    ...overrides,
  };
}

function state(routes: RouteState[], draining: RouteState[] = []): GatewayState {
  return {
    configured: true,
    stopping: false,
    routes: Object.fromEntries(routes.map((r) => [r.id, r])),
    draining,
    activeConnections: 0,
    maxConnections: 5000,
  };
}

describe('gateway twin report', () => {
  it('shows a drained route as draining while connections finish, then drained', () => {
    expect(reportedRouteStatus(routeState('a', { status: 'disabled' }, 2), true)).toBe('draining');
    expect(reportedRouteStatus(routeState('a', { status: 'disabled' }, 0), true)).toBe('drained');
    expect(reportedRouteStatus(routeState('a', { status: 'disabled' }), false)).toBe('disabled');
  });

  it('reports each route with its reason and counters (empty count maps left out)', () => {
    const refused = routeState('b', {
      status: 'refused',
      port: 80,
      error: { code: 'PORT_IN_USE', message: 'port 80 on 0.0.0.0 is in use' },
    });
    const report = gatewayReport(
      state([routeState('a'), refused], [routeState('gone', { status: 'draining' }, 1)]),
      new Set(),
      'full',
    );
    expect(report).toEqual({
      routes: {
        a: {
          status: 'listening',
          port: 1000,
          bindAddress: '0.0.0.0',
          hybridConnection: 'site-a',
          service: 'sql',
          counters: {
            accepted: 5,
            tunneled: 4,
            active: 0,
            refused: { 'not-allowed': 2 },
            bytesFromClients: 10,
            bytesToClients: 20,
          },
        },
        b: expect.objectContaining({
          status: 'refused',
          reason: { code: 'PORT_IN_USE', message: 'port 80 on 0.0.0.0 is in use' },
        }),
        gone: { status: 'draining', active: 1 },
      },
      connections: { active: 0, max: 5000 },
    });
  });

  it('compact drops counters; summary lists only routes needing attention, with counts', () => {
    const routes = [routeState('a'), routeState('b', { status: 'refused' })];
    expect((gatewayReport(state(routes), new Set(), 'compact').routes as Record<string, unknown>).a).toEqual(
      expect.objectContaining({ active: 0 }),
    );
    const summary = gatewayReport(state(routes), new Set(), 'summary');
    expect(Object.keys(summary.routes as object)).toEqual(['b']);
    expect(summary.routeCounts).toEqual({ listening: 1, refused: 1 });
  });

  it('reports a route whose tunnels fail at the relay (a refused credential) at every detail', () => {
    const locked = routeState('locked', {
      relayFault: { reason: 'unauthorized', code: 'RELAY_UNAUTHORIZED', atMs: 1 },
    });
    for (const detail of ['full', 'compact', 'summary'] as const) {
      const routes = gatewayReport(state([routeState('a'), locked]), new Set(), detail).routes as Record<
        string,
        Record<string, unknown>
      >;
      expect(routes.locked!.relayFault).toEqual({ reason: 'unauthorized', code: 'RELAY_UNAUTHORIZED' });
      expect(routes.a?.relayFault).toBeUndefined();
    }
  });

  it('gives one stats entry per route with its identifiers and totals', () => {
    const [entry] = gatewayStats(state([routeState('a', { boundPort: 1000 })]), new Set(), () => 'site-a');
    expect(entry).toEqual({
      route: 'a',
      hybridConnection: 'site-a',
      location: 'site-a',
      service: 'sql',
      port: 1000,
      status: 'listening',
      active: 0,
      accepted: 5,
      tunneled: 4,
      refused: 2,
      failed: 0,
      broken: 0,
      bytesFromClients: 10,
      bytesToClients: 20,
    });
  });
});

describe('withDrainedRoutes', () => {
  const document = { schemaVersion: 1, routes: { a: { port: 1, enabled: true }, b: { port: 2 } } };

  it('disables drained routes in a copy and leaves the rest', () => {
    expect(withDrainedRoutes(document, new Set(['a', 'missing']))).toEqual({
      schemaVersion: 1,
      routes: { a: { port: 1, enabled: false }, b: { port: 2 } },
    });
    expect(document.routes.a.enabled).toBe(true);
  });

  it('returns the document itself when nothing is drained', () => {
    expect(withDrainedRoutes(document, new Set())).toBe(document);
  });
});
