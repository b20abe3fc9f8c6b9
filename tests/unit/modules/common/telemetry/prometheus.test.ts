import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createRelayMetrics } from '../../../../../modules/common/src/telemetry/metrics';
import { prometheusName } from '../../../../../modules/common/src/telemetry/prometheus';
import { PrometheusReader } from '../../../../../modules/common/src/telemetry/prometheus-reader';

function setup(resourceAttrs: Record<string, string> = {}) {
  const reader = new PrometheusReader();
  const provider = new MeterProvider({ readers: [reader], resource: resourceFromAttributes(resourceAttrs) });
  return { reader, provider, meter: provider.getMeter('t') };
}

describe('prometheusName', () => {
  it.each([
    ['relay.connections.accepted', '{connection}', true, 'relay_connections_accepted_total'],
    ['relay.tunnel.bytes', 'By', true, 'relay_tunnel_bytes_total'],
    ['relay.connect.duration', 'ms', false, 'relay_connect_duration_milliseconds'],
    ['relay.token.expiry', 's', false, 'relay_token_expiry_seconds'],
    ['relay.tunnels.active', '{connection}', false, 'relay_tunnels_active'],
    ['9lives-x', '', false, '_9lives_x'],
    ['disk.usage', 'By', false, 'disk_usage_bytes'],
  ])('%s [%s] monotonic=%s → %s', (name, unit, monotonic, expected) => {
    expect(prometheusName(name, unit, monotonic)).toBe(expected);
  });
});

describe('PrometheusReader.scrape', () => {
  it('renders counters, gauges and histograms in the text format', async () => {
    const { reader, provider, meter } = setup();
    const m = createRelayMetrics(meter, { module: 'relay-gateway' });
    const tunnel = m.tunnelOpened({ route: 'sql', hybridConnection: 'hc1' }, 7);
    tunnel.toTarget(10);
    tunnel.toClient(20);
    m.connectionRefused({ route: 'sql', hybridConnection: 'hc1' }, 'no_listener');
    m.setListenersOnline({ hybridConnection: 'hc1' }, 1);

    const text = await reader.scrape();
    const lines = text.split('\n');
    const labels = 'module="relay-gateway",route="sql",hybrid_connection="hc1"';
    expect(lines).toContain('# TYPE relay_connections_accepted_total counter');
    expect(lines).toContain(`relay_connections_accepted_total{${labels}} 1`);
    expect(lines).toContain('# TYPE relay_tunnels_active gauge');
    expect(lines).toContain(`relay_tunnels_active{${labels}} 1`);
    expect(lines).toContain(`relay_connections_refused_total{${labels},reason="no_listener"} 1`);
    expect(lines).toContain(`relay_tunnel_bytes_total{${labels},direction="to_target"} 10`);
    expect(lines).toContain(`relay_tunnel_bytes_total{${labels},direction="to_client"} 20`);
    expect(lines).toContain('relay_listeners_online{module="relay-gateway",hybrid_connection="hc1"} 1');
    expect(lines).toContain('# TYPE relay_connect_duration_milliseconds histogram');
    expect(lines).toContain(`relay_connect_duration_milliseconds_bucket{${labels},le="5"} 0`);
    expect(lines).toContain(`relay_connect_duration_milliseconds_bucket{${labels},le="10"} 1`);
    expect(lines).toContain(`relay_connect_duration_milliseconds_bucket{${labels},le="+Inf"} 1`);
    expect(lines).toContain(`relay_connect_duration_milliseconds_sum{${labels}} 7`);
    expect(lines).toContain(`relay_connect_duration_milliseconds_count{${labels}} 1`);
    expect(lines).toContain(
      '# HELP relay_tunnel_bytes_total Payload bytes carried through tunnels, by direction.',
    );
    expect(text.endsWith('\n')).toBe(true);
    // Each family's HELP and TYPE appear once.
    expect(lines.filter((l) => l === '# TYPE relay_tunnel_bytes_total counter')).toHaveLength(1);
    await provider.shutdown();
  });

  it('makes histogram buckets cumulative', async () => {
    const { reader, provider, meter } = setup();
    const h = meter.createHistogram('lat', { unit: 'ms', advice: { explicitBucketBoundaries: [1, 10] } });
    for (const v of [0.5, 5, 5, 50]) h.record(v);
    const lines = (await reader.scrape()).split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'lat_milliseconds_bucket{le="1"} 1',
        'lat_milliseconds_bucket{le="10"} 3',
        'lat_milliseconds_bucket{le="+Inf"} 4',
        'lat_milliseconds_sum 60.5',
        'lat_milliseconds_count 4',
      ]),
    );
    await provider.shutdown();
  });

  it('escapes label values and help text, and sanitizes label names', async () => {
    const { reader, provider, meter } = setup();
    meter
      .createCounter('odd', { description: 'line one\nback\\slash' })
      .add(1, { 'weird.key': 'quote " back \\ nl \n end' });
    const text = await reader.scrape();
    expect(text).toContain('# HELP odd_total line one\\nback\\\\slash');
    expect(text).toContain('odd_total{weird_key="quote \\" back \\\\ nl \\n end"} 1');
    await provider.shutdown();
  });

  it('adds target_info from the resource', async () => {
    const { reader, provider, meter } = setup({ 'service.name': 'relay-forwarder' });
    meter.createCounter('c').add(1);
    const lines = (await reader.scrape()).split('\n');
    expect(lines).toContain('# TYPE target_info gauge');
    expect(lines.find((l) => l.startsWith('target_info{'))).toContain('service_name="relay-forwarder"');
    await provider.shutdown();
  });

  it('renders an empty body when nothing was recorded, and fails after shutdown', async () => {
    const { reader, provider } = setup();
    expect(await reader.scrape()).toBe('');
    await provider.shutdown();
    await expect(reader.scrape()).rejects.toThrow();
  });
});
