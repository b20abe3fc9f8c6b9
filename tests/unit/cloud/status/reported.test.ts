import {
  readConfig,
  readForwarderHybridConnections,
  readGatewayRoutes,
} from '../../../../cloud/src/status/reported';

describe('reported-property readers', () => {
  it('read a compact gateway report: live connections, no counters', () => {
    expect(
      readGatewayRoutes({
        routes: {
          r: {
            status: 'listening',
            port: 0,
            boundPort: 41000,
            hybridConnection: 'h',
            service: 's',
            active: 3,
          },
        },
      }),
    ).toEqual([
      { id: 'r', status: 'listening', port: 41000, hybridConnection: 'h', service: 's', active: 3 },
    ]);
  });

  it('add refused, failed and broken into errors', () => {
    const [route] = readGatewayRoutes({
      routes: {
        r: {
          status: 'listening',
          counters: {
            accepted: 5,
            active: 1,
            refused: { 'not-allowed': 2 },
            failed: { 'no-listener': 1, 'target-timeout': 1 },
            broken: { 'relay-lost': 1 },
            bytesFromClients: 7,
            bytesToClients: 9,
          },
        },
      },
    });
    expect(route!.counters).toEqual({
      accepted: 5,
      bytesFromClients: 7,
      bytesToClients: 9,
      errors: 5,
      errorsByReason: { 'not-allowed': 2, 'no-listener': 1, 'target-timeout': 1, 'relay-lost': 1 },
      startup: 0,
    });
    expect(route!.active).toBe(1);
  });

  it('keep startup failures (no-listener before the first tunnel) apart from user errors, and read relayFault', () => {
    const [route] = readGatewayRoutes({
      routes: {
        r: {
          status: 'listening',
          relayFault: { reason: 'no-listener', code: 'RELAY_NO_LISTENER' },
          counters: {
            accepted: 300,
            failed: { 'no-listener': 280, 'target-refused': 2 },
            startup: 277,
          },
        },
      },
    });
    expect(route!.counters).toMatchObject({
      errors: 5,
      errorsByReason: { 'no-listener': 3, 'target-refused': 2 },
      startup: 277,
    });
    expect(route!.relayFault).toEqual({ reason: 'no-listener', code: 'RELAY_NO_LISTENER' });
    // Only startup failures: no user error of that reason is left over.
    const [boot] = readGatewayRoutes({
      routes: { r: { status: 'listening', counters: { failed: { 'no-listener': 4 }, startup: 4 } } },
    });
    expect(boot!.counters).toMatchObject({ errors: 0, errorsByReason: {}, startup: 4 });
  });

  it('read malformed or missing fields as absent, never throw', () => {
    expect(
      readGatewayRoutes({ routes: { a: 'x', b: { status: 3, port: 'p', counters: { accepted: 'many' } } } }),
    ).toEqual([
      {
        id: 'b',
        status: 'unknown',
        active: 0,
        counters: {
          accepted: 0,
          bytesFromClients: 0,
          bytesToClients: 0,
          errors: 0,
          errorsByReason: {},
          startup: 0,
        },
      },
    ]);
    expect(readForwarderHybridConnections({ hybridConnections: [] })).toEqual([]);
    expect(readConfig({})).toBeUndefined();
    expect(readConfig({ config: { status: 'weird', refused: { problems: [{ path: 1 }, 'x'] } } })).toEqual({
      status: 'unknown',
      refused: { problemCount: 1, problems: [{ path: '', message: '' }] },
    });
  });

  it('read a forwarder summary report (services of a compact entry carry active)', () => {
    expect(
      readForwarderHybridConnections({
        hybridConnections: {
          h: {
            status: 'refused',
            onlineListeners: 0,
            listeners: 2,
            services: { s: { status: 'enabled', active: 4 } },
          },
        },
      }),
    ).toEqual([
      {
        name: 'h',
        status: 'refused',
        onlineListeners: 0,
        listeners: 2,
        services: [{ name: 's', status: 'enabled', active: 4 }],
      },
    ]);
  });
});
