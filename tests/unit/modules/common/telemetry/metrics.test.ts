import { createNoopMeter } from '@opentelemetry/api';
import { createRelayMetrics } from '../../../../../modules/common/src/telemetry/metrics';
import { REFUSAL_REASONS } from '../../../../../modules/common/src/telemetry/instruments';
import { createTestMetrics, TestMetrics } from '../../../../support/metrics';

const route = { route: 'sql', hybridConnection: 'hc-berlin', location: 'berlin', service: 'sql' };

describe('createRelayMetrics', () => {
  let t: TestMetrics;
  let now = 1_000_000;
  beforeEach(() => {
    now = 1_000_000;
    t = createTestMetrics({ module: 'relay-gateway', nowMs: () => now });
  });
  afterEach(() => t.shutdown());

  it('counts a tunnel as accepted and active, and no longer active once closed (close is idempotent)', async () => {
    const tunnel = t.metrics.tunnelOpened(route, 12);
    let s = await t.collect();
    expect(s.value('connectionsAccepted', { route: 'sql' })).toBe(1);
    expect(s.value('tunnelsActive', { route: 'sql' })).toBe(1);
    tunnel.close();
    tunnel.close();
    s = await t.collect();
    expect(s.value('tunnelsActive', { route: 'sql' })).toBe(0);
    expect(s.value('connectionsAccepted', { route: 'sql' })).toBe(1);
  });

  it('puts every tunnel dimension and the module on the data point, leaving absent ones out', async () => {
    t.metrics.tunnelOpened(route, 1);
    t.metrics.tunnelOpened({ route: 'web', hybridConnection: 'hc-paris' }, 1);
    const s = await t.collect();
    expect(s.matching('connectionsAccepted', { route: 'sql' })[0].attributes).toEqual({
      module: 'relay-gateway',
      route: 'sql',
      hybrid_connection: 'hc-berlin',
      location: 'berlin',
      service: 'sql',
    });
    expect(s.matching('connectionsAccepted', { route: 'web' })[0].attributes).toEqual({
      module: 'relay-gateway',
      route: 'web',
      hybrid_connection: 'hc-paris',
    });
  });

  it('sums bytes per direction across tunnels of a route, and keeps per-tunnel counts', async () => {
    const a = t.metrics.tunnelOpened(route, 1);
    const b = t.metrics.tunnelOpened(route, 1);
    a.toTarget(100);
    a.toTarget(23);
    a.toClient(7);
    b.toClient(1000);
    b.toTarget(0);
    b.toTarget(-5);
    const s = await t.collect();
    expect(s.value('tunnelBytes', { route: 'sql', direction: 'to_target' })).toBe(123);
    expect(s.value('tunnelBytes', { route: 'sql', direction: 'to_client' })).toBe(1007);
    expect(a.bytes()).toEqual({ toTarget: 123, toClient: 7 });
    expect(b.bytes()).toEqual({ toTarget: 0, toClient: 1000 });
  });

  it('keeps byte totals after tunnels close (a cumulative counter never goes back)', async () => {
    const a = t.metrics.tunnelOpened(route, 1);
    a.toTarget(50);
    a.close();
    await t.collect();
    const s = await t.collect();
    expect(s.value('tunnelBytes', { direction: 'to_target' })).toBe(50);
  });

  it('records connect latency in the histogram, skipping impossible values', async () => {
    t.metrics.tunnelOpened(route, 4);
    t.metrics.tunnelOpened(route, 600);
    t.metrics.tunnelOpened(route, Number.NaN);
    t.metrics.tunnelOpened(route, -1);
    const s = await t.collect();
    expect(s.histogram('connectDuration', { route: 'sql' })).toEqual({ count: 2, sum: 604 });
    const h = s.matching('connectDuration')[0].histogram!;
    expect(h.boundaries).toContain(5);
    expect(h.counts[h.boundaries.indexOf(5)]).toBe(1);
  });

  it('counts refusals under the reason attribute, for every reason', async () => {
    for (const reason of REFUSAL_REASONS) t.metrics.connectionRefused(route, reason);
    t.metrics.connectionRefused(route, 'allow_list');
    const s = await t.collect();
    expect(s.value('connectionsRefused', { reason: 'allow_list' })).toBe(2);
    expect(s.value('connectionsRefused', { reason: 'target_timeout' })).toBe(1);
    expect(s.value('connectionsRefused')).toBe(REFUSAL_REASONS.length + 1);
    expect(s.value('connectionsAccepted')).toBe(0);
  });

  it('reports listeners online per hybrid connection until forgotten', async () => {
    const berlin = { hybridConnection: 'hc-berlin', location: 'berlin' };
    t.metrics.setListenersOnline(berlin, 2);
    t.metrics.setListenersOnline({ hybridConnection: 'hc-paris' }, 0);
    let s = await t.collect();
    expect(s.value('listenersOnline', { hybrid_connection: 'hc-berlin' })).toBe(2);
    expect(s.matching('listenersOnline', { hybrid_connection: 'hc-paris' })).toHaveLength(1);
    t.metrics.setListenersOnline(berlin, 1);
    t.metrics.forgetListener({ hybridConnection: 'hc-paris' });
    s = await t.collect();
    expect(s.value('listenersOnline', { hybrid_connection: 'hc-berlin' })).toBe(1);
    expect(s.matching('listenersOnline', { hybrid_connection: 'hc-paris' })).toHaveLength(0);
  });

  it('reports seconds to token expiry as of each collection', async () => {
    const hc = { hybridConnection: 'hc-berlin' };
    t.metrics.setTokenExpiry(hc, now + 3_600_000);
    let s = await t.collect();
    expect(s.value('tokenExpiry', { hybrid_connection: 'hc-berlin' })).toBe(3600);
    now += 3_660_000;
    s = await t.collect();
    expect(s.value('tokenExpiry', { hybrid_connection: 'hc-berlin' })).toBe(-60);
    // The listener gauge stays silent for an entry that only has a token.
    expect(s.matching('listenersOnline')).toHaveLength(0);
  });

  it('counts reconnects and token renewals by outcome', async () => {
    const hc = { hybridConnection: 'hc-berlin', location: 'berlin' };
    t.metrics.listenerReconnected(hc);
    t.metrics.listenerReconnected(hc);
    t.metrics.tokenRenewed(hc, 'success');
    t.metrics.tokenRenewed(hc, 'failure');
    t.metrics.tokenRenewed(hc, 'success');
    const s = await t.collect();
    expect(s.value('listenerReconnects', { location: 'berlin' })).toBe(2);
    expect(s.value('tokenRenewals', { outcome: 'success' })).toBe(2);
    expect(s.value('tokenRenewals', { outcome: 'failure' })).toBe(1);
  });

  it('counts configuration versions and controller work', async () => {
    t.metrics.configVersion('applied');
    t.metrics.configVersion('refused');
    t.metrics.configVersion('applied');
    t.metrics.reconcileCompleted(40, 'success');
    t.metrics.reconcileCompleted(60, 'failure');
    t.metrics.reconcileAction('create_hybrid_connection', 'berlin');
    t.metrics.reconcileAction('write_twin');
    const s = await t.collect();
    expect(s.value('configVersions', { outcome: 'applied', module: 'relay-gateway' })).toBe(2);
    expect(s.value('configVersions', { outcome: 'refused' })).toBe(1);
    expect(s.histogram('reconcileDuration')).toEqual({ count: 2, sum: 100 });
    expect(s.histogram('reconcileDuration', { outcome: 'failure' })).toEqual({ count: 1, sum: 60 });
    expect(s.value('reconcileActions', { action: 'create_hybrid_connection', location: 'berlin' })).toBe(1);
    expect(s.matching('reconcileActions', { action: 'write_twin' })[0].attributes).not.toHaveProperty(
      'location',
    );
  });

  it('reads multiplexed connections and streams from their source at each collection, until stopped', async () => {
    let streams = 130;
    const stop = t.metrics.observeMux!(() => [
      { attrs: { hybridConnection: 'hc-berlin', location: 'berlin' }, connections: 2, streams },
    ]);
    let s = await t.collect();
    expect(s.value('muxConnections', { hybrid_connection: 'hc-berlin' })).toBe(2);
    expect(s.value('muxStreams', { hybrid_connection: 'hc-berlin', location: 'berlin' })).toBe(130);
    streams = 7;
    s = await t.collect();
    expect(s.value('muxStreams', { hybrid_connection: 'hc-berlin' })).toBe(7);
    stop();
    s = await t.collect();
    expect(s.matching('muxStreams', {})).toHaveLength(0);
  });

  it('works on the API no-op meter (telemetry not configured) without throwing', () => {
    const m = createRelayMetrics(createNoopMeter(), { module: 'x' });
    const tunnel = m.tunnelOpened(route, 1);
    tunnel.toTarget(10);
    tunnel.close();
    m.connectionRefused(route, 'limit');
    m.setTokenExpiry({ hybridConnection: 'h' }, 0);
    expect(tunnel.bytes()).toEqual({ toTarget: 10, toClient: 0 });
  });
});
