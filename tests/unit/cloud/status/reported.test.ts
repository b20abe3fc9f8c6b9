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
    expect(route!.counters).toEqual({ accepted: 5, bytesFromClients: 7, bytesToClients: 9, errors: 5 });
    expect(route!.active).toBe(1);
  });

  it('read malformed or missing fields as absent, never throw', () => {
    expect(
      readGatewayRoutes({ routes: { a: 'x', b: { status: 3, port: 'p', counters: { accepted: 'many' } } } }),
    ).toEqual([
      {
        id: 'b',
        status: 'unknown',
        active: 0,
        counters: { accepted: 0, bytesFromClients: 0, bytesToClients: 0, errors: 0 },
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
