// The "why" of the status page: user errors by reason (a bar per reason, and per service), with the fleet's
// startup failures counted apart; and the client-side filter of the location cards.
import { formatCount, h } from './render.js';

// What each reason means to an operator, on hover.
const REASON_HINTS = {
  'no-listener': 'the location had no listener on the relay (forwarder down or not connected)',
  'not-allowed': 'the client address is not in the allow-list',
  'route-limit': 'the route was at its connection limit',
  'global-limit': 'the gateway was at its connection limit',
  'client-aborted': 'the client went away before it was admitted',
  'target-refused': 'the on-prem target refused the connection',
  'target-timeout': 'the on-prem target did not answer',
  'target-unresolved': 'the on-prem target name does not resolve',
  unauthorized: 'the relay refused the gateway token',
  'relay-unavailable': 'the relay could not be reached or dropped the tunnel',
};

function sortedReasons(byReason) {
  return Object.entries(byReason ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function bar(reason, count, max) {
  const fill = h('span', { class: 'bar-fill' });
  // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
  fill.style.width = `${Math.max(2, Math.round((count / max) * 100))}%`;
  return h(
    'div',
    { class: 'bar', 'data-reason': reason, title: REASON_HINTS[reason] },
    h('code', { class: 'bar-label' }, reason),
    h('span', { class: 'bar-track' }, fill),
    h('span', { class: 'bar-count num' }, formatCount(count)),
  );
}

/** The fleet's user errors by reason as horizontal bars, the startup failures apart, and the per-service table. */
export function renderBreakdown(snapshot) {
  const totals = snapshot?.totals;
  if (!totals) return [h('p', { class: 'muted' }, 'Waiting for data…')];
  const reasons = sortedReasons(totals.errorsByReason);
  const max = reasons.length > 0 ? reasons[0][1] : 1;
  const startup = totals.startupErrors ?? 0;
  const chart = h(
    'div',
    { class: 'bars', 'data-breakdown': 'fleet' },
    reasons.length > 0
      ? reasons.map(([reason, n]) => bar(reason, n, max))
      : h('p', { class: 'muted' }, 'No user errors.'),
  );
  const note = h(
    'p',
    { class: 'muted small', 'data-startup-errors': startup },
    `Not counted above: ${formatCount(startup)} startup ${startup === 1 ? 'failure' : 'failures'} ` +
      '(no-listener before a route carried its first tunnel: the location was still coming up, ' +
      'including the fleet’s own boot probes). Totals since each gateway route started.',
  );
  const rows = [];
  for (const location of snapshot.locations)
    for (const service of location.services) {
      const t = service.totals;
      if (!t || (t.errors === 0 && t.startupErrors === 0)) continue;
      rows.push({ location: location.id, service: service.name, totals: t });
    }
  rows.sort((a, b) => b.totals.errors - a.totals.errors || b.totals.startupErrors - a.totals.startupErrors);
  const table =
    rows.length === 0
      ? null
      : h(
          'table',
          { class: 'plain breakdown' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Location', 'Service', 'Errors', 'By reason', 'Startup'].map((c, i) =>
                h('th', { class: i === 2 || i === 4 ? 'num' : undefined }, c),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((r) =>
              h(
                'tr',
                { 'data-breakdown-service': `${r.location}/${r.service}` },
                h('td', { class: 'name' }, r.location),
                h('td', {}, r.service),
                h(
                  'td',
                  { class: `num${r.totals.errors > 0 ? ' warn-text' : ''}` },
                  formatCount(r.totals.errors),
                ),
                h(
                  'td',
                  {},
                  sortedReasons(r.totals.errorsByReason).map(([reason, n]) =>
                    h(
                      'span',
                      { class: 'reason-chip', title: REASON_HINTS[reason] },
                      `${reason} ${formatCount(n)}`,
                    ),
                  ),
                ),
                h('td', { class: 'num muted' }, formatCount(r.totals.startupErrors)),
              ),
            ),
          ),
        );
  return [chart, note, table];
}

/** Whether a location passes the filter: text over names, device, pool, hybrid connection and services. */
export function matchesFilter(location, filter) {
  if (filter.state && location.state !== filter.state && location.listeners.state !== filter.state)
    return false;
  if (filter.pool && (location.pool ?? '') !== filter.pool) return false;
  const text = filter.text.trim().toLowerCase();
  if (!text) return true;
  const haystack = [
    location.id,
    location.deviceId,
    location.pool,
    location.hybridConnection,
    location.namespace,
    ...location.services.map((s) => s.name),
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
  return text.split(/\s+/).every((word) => haystack.includes(word));
}

/** Refills a select with `values` (after its first, "any" option), keeping the current choice. */
export function fillSelect(select, values) {
  const current = select.value;
  const wanted = [...new Set(values)].filter(Boolean).sort();
  const existing = [...select.options].slice(1).map((o) => o.value);
  if (existing.join('\u0000') !== wanted.join('\u0000')) {
    select.replaceChildren(select.options[0], ...wanted.map((v) => h('option', {}, v)));
    select.value = wanted.includes(current) ? current : '';
  }
}
