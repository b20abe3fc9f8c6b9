// The status page: receives the fleet document from /api/events (server-sent events; the browser reconnects by
// itself) and renders it. Charts use uPlot (served from the server's node_modules).
import {
  formatBytes,
  formatCount,
  formatTime,
  h,
  historySpan,
  renderGateways,
  renderLocation,
  renderRefused,
  renderTiles,
} from './render.js';
import { fillSelect, matchesFilter, renderBreakdown } from './breakdown.js';
import { actionCell, showActions } from './actions.js';

const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d'];
const $ = (id) => document.getElementById(id);

const charts = new Map(); // element id → { plot, key }

function setLive(state, text) {
  $('live').setAttribute('data-state', state);
  $('live-text').textContent = text;
}

function chartSeries(doc, pick) {
  const buckets = doc.history.buckets;
  const xs = buckets.map((b) => b.startMs / 1000);
  const ids = doc.history.chartedLocations;
  const data = [xs, buckets.map((b) => pick(b.fleet))];
  for (const id of ids) data.push(buckets.map((b) => (b.locations[id] ? pick(b.locations[id]) : 0)));
  return { data, labels: ['fleet', ...ids] };
}

function drawChart(elementId, doc, pick, format) {
  const el = $(elementId);
  const { data, labels } = chartSeries(doc, pick);
  const key = labels.join('\u0000');
  const existing = charts.get(elementId);
  if (existing && existing.key === key) {
    existing.plot.setData(data);
    return;
  }
  existing?.plot.destroy();
  if (typeof window.uPlot !== 'function') return; // the library failed to load: figures still show in tables
  const series = [
    {},
    ...labels.map((label, i) => ({
      label,
      stroke: i === 0 ? '#0f172a' : PALETTE[(i - 1) % PALETTE.length],
      width: i === 0 ? 2 : 1.5,
      fill: i === 0 ? 'rgba(15, 23, 42, 0.06)' : undefined,
      value: (_u, v) => (v === null || v === undefined ? '–' : format(v)),
      points: { show: false },
    })),
  ];
  const plot = new window.uPlot(
    {
      width: Math.max(260, el.clientWidth),
      height: 180,
      series,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' } },
        {
          stroke: '#64748b',
          grid: { stroke: '#eef2f7' },
          ticks: { stroke: '#e2e8f0' },
          size: 64,
          values: (_u, splits) => splits.map((v) => format(v)),
        },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    },
    data,
    el,
  );
  charts.set(elementId, { plot, key });
}

function drawCharts(doc) {
  drawChart('chart-bytes', doc, (f) => f.bytes, formatBytes);
  drawChart('chart-errors', doc, (f) => f.errors, formatCount);
  drawChart('chart-active', doc, (f) => f.peakActive, formatCount);
}

function renderBanner(doc) {
  const banner = $('banner');
  if (doc.source.ok) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  banner.hidden = false;
  const since = doc.source.lastSuccessAtMs
    ? `showing data from ${formatTime(doc.source.lastSuccessAtMs)}`
    : 'no data yet';
  banner.replaceChildren(
    h('strong', {}, 'IoT Hub could not be read: '),
    doc.source.error ? `${doc.source.error.code} ${doc.source.error.message}` : 'waiting for the first read',
    h('span', { class: 'muted' }, ` (${since})`),
  );
}

let lastDoc;

// The filter runs in the page over the last document: hundreds of locations filter without a round trip.
function renderLocations(doc) {
  const snapshot = doc.snapshot;
  const all = snapshot?.locations ?? [];
  fillSelect(
    $('filter-state'),
    all.flatMap((l) => [l.state, l.listeners.state]),
  );
  fillSelect(
    $('filter-pool'),
    all.map((l) => l.pool),
  );
  const filter = {
    text: $('filter-text').value,
    state: $('filter-state').value,
    pool: $('filter-pool').value,
  };
  const locations = all.filter((l) => matchesFilter(l, filter));
  $('filter-count').textContent = all.length > 0 ? `${locations.length} of ${all.length} shown` : '';
  $('locations').replaceChildren(
    ...(locations.length > 0
      ? locations.map((l) =>
          renderLocation(
            l,
            doc.history.hourByLocation[l.id],
            historySpan(doc),
            doc.actions ? actionCell : undefined,
          ),
        )
      : all.length > 0
        ? [h('p', { class: 'muted' }, 'No location matches the filter.')]
        : [
            h(
              'p',
              { class: 'muted' },
              snapshot
                ? 'No locations yet: tag a device with tags.relay.role = "location".'
                : 'Waiting for data…',
            ),
          ]),
  );
}

function render(doc) {
  lastDoc = doc;
  renderBanner(doc);
  $('tiles').replaceChildren(...renderTiles(doc));
  const snapshot = doc.snapshot;
  $('breakdown').replaceChildren(...renderBreakdown(snapshot).filter(Boolean));
  showActions(doc.actions === true);
  renderLocations(doc);
  $('gateways').replaceChildren(renderGateways(snapshot?.gateways ?? []));
  $('refused').replaceChildren(...[renderRefused(snapshot?.refusedConfigs ?? [])].flat());
  const bucket = doc.history.bucketMs === 60000 ? 'minute' : formatInterval(doc.history.bucketMs);
  for (const span of document.querySelectorAll('[data-bucket]')) span.textContent = bucket;
  drawCharts(doc);
  const at = doc.source.lastSuccessAtMs ?? doc.generatedAtMs;
  $('foot-text').textContent =
    `Data from IoT Hub (device tags and the modules' reported properties), read every ${formatInterval(doc.pollIntervalMs)}. ` +
    `Counters reach IoT Hub with each module's reported-properties refresh.`;
  document.body.setAttribute('data-updated', String(at));
  return at;
}

function formatInterval(ms) {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => setLive('live', 'live'));
  events.addEventListener('error', () => setLive('down', 'reconnecting…'));
  events.addEventListener('fleet', (e) => {
    let doc;
    try {
      doc = JSON.parse(e.data);
    } catch {
      return;
    }
    const at = render(doc);
    setLive(
      doc.source.ok ? 'live' : 'stale',
      doc.source.ok ? `live · updated ${formatTime(at)}` : 'IoT Hub unreachable',
    );
  });
}

window.addEventListener('resize', () => {
  for (const [id, { plot }] of charts) plot.setSize({ width: Math.max(260, $(id).clientWidth), height: 180 });
});

for (const id of ['filter-text', 'filter-state', 'filter-pool'])
  $(id).addEventListener('input', () => lastDoc && renderLocations(lastDoc));

connect();
