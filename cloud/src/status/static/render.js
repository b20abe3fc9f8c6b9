// Rendering of the fleet document into DOM nodes. Every piece of data goes in through textContent or a
// whitelisted attribute: nothing from the fleet is ever parsed as HTML.

/** Creates an element: `props` sets class, title, data-* and aria-* only; children are nodes or text. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = String(value);
    else if (name === 'title' || name.startsWith('data-') || name.startsWith('aria-') || name === 'colspan')
      node.setAttribute(name, String(value));
    else throw new Error(`h(): attribute ${name} is not allowed`);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 1234567 → "1.2 MB". */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return '–';
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

/** 12345 → "12,345". */
export function formatCount(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

/** How far the history reaches, in words: "last hour", "last 40s". */
export function historySpan(doc) {
  const ms = doc.history.buckets.length * doc.history.bucketMs;
  return ms === 3600000 ? 'last hour' : `last ${formatDuration(ms / 1000)}`;
}

/** "1 gateway", "3 gateways". */
export function plural(n, word) {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** Seconds → "3h 59m", "12m 5s", "40s"; negative → "expired 5m ago". */
export function formatDuration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text = d > 0 ? `${d}d ${hr}h` : hr > 0 ? `${hr}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
  return seconds < 0 ? `expired ${text} ago` : text;
}

/** A time of day for "updated at". */
export function formatTime(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

// Status words → badge tone.
const TONES = {
  ok: 'good',
  online: 'good',
  listening: 'good',
  enabled: 'good',
  applied: 'good',
  connected: 'good',
  pending: 'warn',
  partial: 'warn',
  connecting: 'warn',
  starting: 'warn',
  draining: 'warn',
  waiting: 'warn',
  'no report': 'warn',
  'no forwarder': 'warn',
  drained: 'muted',
  disabled: 'muted',
  stopped: 'muted',
  unknown: 'muted',
  error: 'bad',
  refused: 'bad',
  disconnected: 'bad',
};

/** A coloured status word. */
export function badge(text, tone = TONES[text] ?? 'muted', title) {
  return h('span', { class: `badge badge-${tone}`, title }, text);
}

function tile(label, value, detail, tone) {
  return h(
    'div',
    { class: `tile${tone ? ` tile-${tone}` : ''}`, 'data-tile': label },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value' }, value),
    detail ? h('div', { class: 'tile-detail' }, detail) : null,
  );
}

/** The header figures. */
export function renderTiles(doc) {
  const t = doc.snapshot?.totals;
  const hour = doc.history.hour;
  const span = historySpan(doc);
  if (!t) return [tile('Locations', '–', 'waiting for the first read of IoT Hub')];
  const listenersTone = t.listeners === 0 ? undefined : t.listenersOnline < t.listeners ? 'warn' : 'good';
  return [
    tile('Locations', formatCount(t.locations), plural(t.services, 'service')),
    tile(
      'Listeners online',
      `${t.listenersOnline} / ${t.listeners}`,
      'relay control channels',
      listenersTone,
    ),
    tile('Live connections', formatCount(t.activeConnections), plural(t.gateways, 'gateway')),
    tile(`Bytes, ${span}`, formatBytes(hour.bytes), plural(hour.connections, 'connection')),
    tile(
      `Errors, ${span}`,
      formatCount(hour.errors),
      'user traffic; startup apart',
      hour.errors > 0 ? 'warn' : undefined,
    ),
    tile(
      'Tokens expiring',
      formatCount(t.tokensExpiring ?? 0),
      `under the ${formatDuration(doc.snapshot.tokenWarnBelowS ?? 0)} renewal margin`,
      t.tokensExpiring > 0 ? 'bad' : 'good',
    ),
    tile(
      'Refused configs',
      formatCount(t.refusedConfigs),
      'module twins',
      t.refusedConfigs > 0 ? 'bad' : undefined,
    ),
  ];
}

function endpoint(location, service) {
  // A service reached by name (SNI on the pool's shared port) shows its name, and its port too when it has both.
  const named =
    service.serverName === undefined
      ? undefined
      : h(
          'code',
          { class: 'endpoint' },
          `${service.serverName}${service.sniPort === undefined ? '' : `:${service.sniPort}`}`,
        );
  if (service.publicPort === undefined) return named ?? h('span', { class: 'muted' }, 'no port');
  const host = location.publicHost ?? 'gateway';
  const port = h(
    'code',
    { class: 'endpoint', 'data-port': service.publicPort },
    `${host}:${service.publicPort}`,
  );
  return named ? h('span', {}, named, ' ', port) : port;
}

function routesCell(service) {
  if (service.routes.length === 0)
    return badge('no route', 'warn', 'no gateway has a route for this service yet');
  const all = service.listeningRoutes === service.routes.length;
  const title = service.routes
    .map((r) => `${r.gateway}: ${r.status}${r.reason ? ` (${r.reason.code}: ${r.reason.message})` : ''}`)
    .join('\n');
  const fault = service.routes.find((r) => r.relayFault);
  if (fault)
    return h(
      'span',
      { 'data-relay-fault': fault.relayFault.reason },
      badge(
        fault.relayFault.reason,
        'bad',
        `relay fault on ${fault.gateway}: the latest tunnel failed at the relay${fault.relayFault.code ? ` (${fault.relayFault.code})` : ''}\n${title}`,
      ),
    );
  return badge(
    all
      ? `listening ${service.listeningRoutes}/${service.routes.length}`
      : `${service.listeningRoutes}/${service.routes.length} listening`,
    all ? 'good' : 'warn',
    title,
  );
}

function serviceRow(location, service, actionCell) {
  const t = service.totals;
  return h(
    'tr',
    { 'data-service': service.name },
    h('td', { class: 'name' }, service.name),
    h('td', {}, endpoint(location, service)),
    h('td', {}, service.target ? h('code', {}, service.target) : h('span', { class: 'muted' }, '–')),
    h('td', {}, routesCell(service)),
    h(
      'td',
      {},
      service.forwarderStatus ? badge(service.forwarderStatus) : h('span', { class: 'muted' }, '–'),
    ),
    h('td', { class: 'num', 'data-figure': 'live' }, formatCount(service.active)),
    h('td', { class: 'num', 'data-figure': 'connections' }, t ? formatCount(t.connections) : '–'),
    h(
      'td',
      {
        class: 'num',
        'data-figure': 'bytes',
        title: t ? `${t.bytesFromClients} bytes in, ${t.bytesToClients} bytes out` : undefined,
      },
      t ? `${formatBytes(t.bytesFromClients)} ↑ ${formatBytes(t.bytesToClients)} ↓` : '–',
    ),
    h(
      'td',
      { class: `num${t && t.errors > 0 ? ' warn-text' : ''}`, 'data-figure': 'errors' },
      t ? formatCount(t.errors) : '–',
    ),
    actionCell ? actionCell(service) : null,
  );
}

function fact(label, ...value) {
  return h(
    'div',
    { class: 'fact' },
    h('span', { class: 'fact-label' }, label),
    h('span', { class: 'fact-value' }, ...value),
  );
}

function tokenFact(location) {
  if (location.tokenExpiresInS === undefined) return null;
  const s = location.tokenExpiresInS;
  const tone = s < 0 ? 'bad' : location.tokenExpiring ? 'warn' : 'good';
  const text = s < 0 ? formatDuration(s) : `in ${formatDuration(s)}`;
  return fact('Token expires', badge(text, tone, location.tokenExpiresAt));
}

// The location's other forwarder devices: one badge each with its listeners and live tunnels.
function replicasFact(location) {
  if (!location.replicas || location.replicas.length === 0) return null;
  return fact(
    'Replicas',
    ...location.replicas.map((r) =>
      h(
        'span',
        { class: 'replica', 'data-replica': r.deviceId },
        badge(
          `${r.deviceId} ${r.listeners.state} ${r.listeners.online}/${r.listeners.total}`,
          r.connected === false || r.listeners.state !== 'online' ? 'warn' : 'good',
          `${r.active} live tunnel(s)${r.tokenExpiresAt ? `; token expires ${r.tokenExpiresAt}` : ''}`,
        ),
        ' ',
      ),
    ),
  );
}

function configText(config) {
  if (!config) return badge('no report', 'warn');
  if (config.refused)
    return badge(`v${config.refused.version ?? '?'} refused`, 'bad', `running v${config.version ?? '–'}`);
  if (config.status === 'applied') return badge(`v${config.version} applied`, 'good');
  return badge(config.status);
}

/** One card per location; `actionCell(service)`, when given, adds the drain/resume column. */
export function renderLocation(location, hour, span, actionCell) {
  const l = location.listeners;
  const listenerTitle = location.forwarder?.reason
    ? `${location.forwarder.reason.code}: ${location.forwarder.reason.message}`
    : undefined;
  const head = h(
    'div',
    { class: 'card-head' },
    h('h3', { class: 'location-name' }, location.id),
    location.state ? badge(location.state) : badge('untagged', 'muted', 'no tags.relay on this device'),
    h('span', { class: 'spacer' }),
    h(
      'span',
      { class: 'muted small' },
      `${span}: ${formatBytes(hour?.bytes ?? 0)}, ${plural(hour?.errors ?? 0, 'error')}`,
    ),
  );
  const facts = h(
    'div',
    { class: 'facts' },
    fact('Device', location.deviceId),
    location.pool ? fact('Pool', location.pool) : null,
    location.hybridConnection ? fact('Hybrid connection', h('code', {}, location.hybridConnection)) : null,
    location.namespace ? fact('Relay namespace', h('code', {}, location.namespace)) : null,
    fact(
      'Listeners',
      h('span', { 'data-listener-state': l.state }, badge(l.state, undefined, listenerTitle)),
      l.total > 0 ? h('span', { class: 'muted' }, ` ${l.online}/${l.total}`) : null,
    ),
    location.forwarder?.connected !== undefined
      ? fact(
          'Forwarder IoT Hub',
          h(
            'span',
            { 'data-forwarder-connection': location.forwarder.connected ? 'connected' : 'disconnected' },
            badge(location.forwarder.connected ? 'connected' : 'disconnected'),
          ),
        )
      : null,
    tokenFact(location),
    replicasFact(location),
    location.forwarder ? fact('Forwarder config', configText(location.forwarder.config)) : null,
    location.forwarder?.reconnects !== undefined
      ? fact('Reconnects', formatCount(location.forwarder.reconnects))
      : null,
  );
  const problems =
    location.problems.length > 0
      ? h(
          'ul',
          { class: 'problems' },
          location.problems.map((p) => h('li', {}, h('code', {}, p.code), ' ', p.message)),
        )
      : null;
  const table =
    location.services.length > 0
      ? h(
          'table',
          { class: actionCell ? 'services with-actions' : 'services' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                'Service',
                'Public endpoint',
                'Target',
                'Gateways',
                'Forwarder',
                'Live',
                'Connections',
                'Bytes in / out',
                'Errors',
                ...(actionCell ? ['Actions'] : []),
              ].map((c, i) => h('th', { class: i >= 5 && i < 9 ? 'num' : undefined }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            location.services.map((s) => serviceRow(location, s, actionCell)),
          ),
        )
      : h('p', { class: 'muted' }, 'No services declared.');
  return h('article', { class: 'card location', 'data-location': location.id }, head, facts, problems, table);
}

/** The gateways table. */
export function renderGateways(gateways) {
  if (gateways.length === 0) return h('p', { class: 'muted' }, 'No gateways yet.');
  return h(
    'table',
    { class: 'plain' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Gateway', 'Pool', 'IoT Hub', 'Config', 'Routes', 'Live connections', 'Routes in trouble'].map((c) =>
          h('th', {}, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      gateways.map((g) =>
        h(
          'tr',
          { 'data-gateway': g.deviceId },
          h('td', { class: 'name' }, g.deviceId),
          h('td', {}, g.pool ?? '–'),
          h('td', {}, g.connected === undefined ? '–' : badge(g.connected ? 'connected' : 'disconnected')),
          h('td', {}, configText(g.config)),
          h('td', {}, `${g.listeningRoutes}/${g.routes} listening`),
          h(
            'td',
            { class: 'num' },
            `${formatCount(g.connections.active)}${g.connections.max ? ` of ${formatCount(g.connections.max)}` : ''}`,
          ),
          h(
            'td',
            {},
            g.troubledRoutes.length === 0
              ? h('span', { class: 'muted' }, 'none')
              : g.troubledRoutes.map((r) =>
                  h(
                    'div',
                    {},
                    h('code', {}, r.route),
                    ' ',
                    badge(r.status),
                    r.reason ? ` ${r.reason.code}: ${r.reason.message}` : '',
                    r.relayFault ? ` relay fault: ${r.relayFault.reason}` : '',
                  ),
                ),
          ),
        ),
      ),
    ),
  );
}

/** The refused configuration versions. */
export function renderRefused(refused) {
  if (refused.length === 0)
    return h('p', { class: 'muted' }, 'None: every module runs its newest configuration.');
  return refused.map((r) =>
    h(
      'article',
      { class: 'card refused', 'data-refused': `${r.deviceId}/${r.moduleId}` },
      h(
        'div',
        { class: 'card-head' },
        h('h3', {}, `${r.deviceId} / ${r.moduleId}`),
        badge(`v${r.version ?? '?'} refused`, 'bad'),
        h('span', { class: 'spacer' }),
        r.at ? h('span', { class: 'muted small' }, new Date(r.at).toLocaleString('en-GB')) : null,
      ),
      h(
        'ul',
        { class: 'problems' },
        r.problems.map((p) => h('li', {}, h('code', {}, p.path || '/'), ' ', p.message)),
        r.problemCount > r.problems.length
          ? h('li', { class: 'muted' }, `… ${r.problemCount - r.problems.length} more`)
          : null,
      ),
    ),
  );
}
