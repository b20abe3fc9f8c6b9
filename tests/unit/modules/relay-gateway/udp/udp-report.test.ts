import { udpRoutesReport } from '../../../../../modules/relay-gateway/src/udp/udp-report';
import type { UdpRouteState } from '../../../../../modules/relay-gateway/src/udp/udp-route';

const state = (status: UdpRouteState['status'], more: Partial<UdpRouteState> = {}): UdpRouteState => ({
  id: 'dns',
  status,
  port: 5353,
  bindAddress: '0.0.0.0',
  hybridConnection: 'site-a',
  service: 'dns',
  counters: {
    flowsOpened: 3,
    activeFlows: 1,
    flowsFailed: {},
    flowsEnded: { idle: 2 },
    datagramsFromClients: 10,
    bytesFromClients: 400,
    datagramsToClients: 9,
    bytesToClients: 900,
    dropped: { oversized: 1 },
  },
  ...more,
});

describe('udpRoutesReport', () => {
  it('adds nothing when no UDP route is configured', () => {
    expect(udpRoutesReport(undefined, 'full')).toEqual({});
  });

  it('reports counters at full detail, empty maps left out', () => {
    expect(udpRoutesReport({ dns: state('listening') }, 'full')).toEqual({
      udpRoutes: {
        dns: {
          status: 'listening',
          port: 5353,
          bindAddress: '0.0.0.0',
          hybridConnection: 'site-a',
          service: 'dns',
          counters: {
            flowsOpened: 3,
            activeFlows: 1,
            flowsEnded: { idle: 2 },
            datagramsFromClients: 10,
            datagramsToClients: 9,
            bytesFromClients: 400,
            bytesToClients: 900,
            dropped: { oversized: 1 },
          },
        },
      },
    });
  });

  it('keeps live flows when compact, and only routes not listening in a summary', () => {
    expect(udpRoutesReport({ dns: state('listening') }, 'compact')).toMatchObject({
      udpRoutes: { dns: { activeFlows: 1 } },
    });
    const refused = state('refused', { id: 'b', error: 'cannot bind 0.0.0.0:53/udp: EACCES' });
    expect(udpRoutesReport({ dns: state('listening'), b: refused }, 'summary')).toEqual({
      udpRoutes: {
        b: expect.objectContaining({ status: 'refused', reason: 'cannot bind 0.0.0.0:53/udp: EACCES' }),
      },
    });
  });
});
