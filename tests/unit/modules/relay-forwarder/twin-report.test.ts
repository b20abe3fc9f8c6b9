import type { HybridConnectionState } from '../../../../modules/relay-forwarder/src/runtime/stats';
import {
  forwarderReport,
  forwarderStats,
  hybridConnectionStatus,
  serviceStatus,
} from '../../../../modules/relay-forwarder/src/twin-report';
import { withDrains } from '../../../../modules/relay-forwarder/src/twin-module';

function hc(overrides: Partial<HybridConnectionState> = {}): HybridConnectionState {
  return {
    name: 'site-a',
    namespace: 'ns.servicebus.windows.net',
    path: 'site-a',
    listeners: 2,
    onlineListeners: 2,
    reconnects: 1,
    tokenRenewals: 0,
    refused: { 'unknown-service': 0, 'bad-preamble': 0, closing: 0 },
    services: {
      sql: {
        accepted: 3,
        refused: { disabled: 0, busy: 0, refused: 1, timeout: 0, dns: 0, 'target-error': 0 },
        active: 1,
        closed: 2,
        bytesToTarget: 100,
        bytesFromTarget: 200,
        enabled: true,
        target: '10.0.0.5:1433',
      },
    },
    drainingTunnels: 0,
    ...overrides,
  };
}

const NO_DRAINS = { hybridConnections: new Map(), services: new Set<string>() };

describe('forwarder twin report', () => {
  it('derives a hybrid connection status from its control channels and the relay answer', () => {
    expect(hybridConnectionStatus(hc())).toBe('listening');
    expect(hybridConnectionStatus(hc({ onlineListeners: 1 }))).toBe('partial');
    expect(hybridConnectionStatus(hc({ onlineListeners: 0 }))).toBe('connecting');
    const lastError = { code: 'RELAY_UNAUTHORIZED', message: '401', atMs: 1 };
    expect(hybridConnectionStatus(hc({ onlineListeners: 0, lastError }))).toBe('refused');
    const network = { code: 'RELAY_NETWORK', message: 'ECONNREFUSED', atMs: 1 };
    expect(hybridConnectionStatus(hc({ onlineListeners: 0, lastError: network }))).toBe('connecting');
  });

  it('derives a service status from enabled and operator drains', () => {
    expect(serviceStatus(true, 0, false)).toBe('enabled');
    expect(serviceStatus(false, 0, false)).toBe('disabled');
    expect(serviceStatus(false, 2, true)).toBe('draining');
    expect(serviceStatus(false, 0, true)).toBe('drained');
  });

  it('reports listeners of N, the reason when not listening (no timestamp), services and non-zero counters', () => {
    const lastError = { code: 'RELAY_UNAUTHORIZED', message: 'the relay refused the token (401)', atMs: 1 };
    const report = forwarderReport(
      { hybridConnections: { 'site-a': hc({ onlineListeners: 0, lastError }) }, drainingTunnels: 0 },
      NO_DRAINS,
      'full',
    );
    expect(report).toEqual({
      hybridConnections: {
        'site-a': {
          status: 'refused',
          namespace: 'ns.servicebus.windows.net',
          path: 'site-a',
          onlineListeners: 0,
          listeners: 2,
          reason: { code: 'RELAY_UNAUTHORIZED', message: 'the relay refused the token (401)' },
          reconnects: 1,
          tokenRenewals: 0,
          services: {
            sql: {
              status: 'enabled',
              target: '10.0.0.5:1433',
              counters: {
                accepted: 3,
                active: 1,
                closed: 2,
                refused: { refused: 1 },
                bytesToTarget: 100,
                bytesFromTarget: 200,
              },
            },
          },
        },
      },
      drainingTunnels: 0,
    });
  });

  it('reports multiplexed connections: open ones and their streams, with the bound and total at full detail', () => {
    const state = {
      hybridConnections: {
        'site-a': hc({ muxConnections: 7, mux: { connections: 2, streams: 130, maxStreams: 1024 } }),
      },
      drainingTunnels: 0,
    };
    const full = forwarderReport(state, NO_DRAINS, 'full') as {
      hybridConnections: Record<string, { mux?: unknown }>;
    };
    expect(full.hybridConnections['site-a']!.mux).toEqual({
      connections: 2,
      streams: 130,
      maxStreams: 1024,
      accepted: 7,
    });
    const compact = forwarderReport(state, NO_DRAINS, 'compact') as typeof full;
    expect(compact.hybridConnections['site-a']!.mux).toEqual({ connections: 2, streams: 130 });
    // Never multiplexed: no entry at all (IoT Hub would keep re-sending an empty one).
    const classic = forwarderReport(
      { hybridConnections: { 'site-a': hc() }, drainingTunnels: 0 },
      NO_DRAINS,
      'full',
    ) as typeof full;
    expect(classic.hybridConnections['site-a']!.mux).toBeUndefined();
  });

  it('shows a drained hybrid connection until its tunnels are done', () => {
    const drains = {
      hybridConnections: new Map([['site-b', { activeTunnels: 1, namespace: 'ns', path: 'site-b' }]]),
      services: new Set<string>(),
    };
    const report = forwarderReport({ hybridConnections: {}, drainingTunnels: 1 }, drains, 'compact');
    expect(report.hybridConnections).toEqual({
      'site-b': { status: 'draining', namespace: 'ns', path: 'site-b', activeTunnels: 1 },
    });
  });

  it('gives one stats entry per service with route, hybrid connection and location', () => {
    expect(
      forwarderStats({ hybridConnections: { 'site-a': hc() }, drainingTunnels: 0 }, NO_DRAINS, 'plant-7'),
    ).toEqual([
      {
        route: 'site-a/sql',
        hybridConnection: 'site-a',
        location: 'plant-7',
        service: 'sql',
        status: 'enabled',
        onlineListeners: 2,
        listeners: 2,
        active: 1,
        accepted: 3,
        refused: 1,
        closed: 2,
        bytesToTarget: 100,
        bytesFromTarget: 200,
      },
    ]);
  });
});

describe('withDrains', () => {
  const document = {
    schemaVersion: 1,
    hybridConnections: {
      a: { connectionString: 'x', services: { sql: { target: 'h:1' }, web: { target: 'h:2' } } },
      b: { connectionString: 'y', services: { ssh: { target: 'h:22' } } },
    },
  };

  it('leaves drained hybrid connections out and disables drained services, in a copy', () => {
    expect(withDrains(document, { hybridConnections: new Set(['b']), services: new Set(['a/web']) })).toEqual(
      {
        schemaVersion: 1,
        hybridConnections: {
          a: {
            connectionString: 'x',
            services: { sql: { target: 'h:1' }, web: { target: 'h:2', enabled: false } },
          },
        },
      },
    );
    expect(document.hybridConnections.b).toBeDefined();
  });

  it('returns the document itself when nothing is drained', () => {
    expect(withDrains(document, { hybridConnections: new Set(), services: new Set() })).toBe(document);
  });
});
