// Drain and resume of gateway routes from the page, when the server has an operator token configured. The token
// the person types stays in this page's memory and goes only into the Authorization header of POST /api/actions.
import { h } from './render.js';

const $ = (id) => document.getElementById(id);

async function act(button) {
  const action = button.getAttribute('data-action');
  const gateway = button.getAttribute('data-gateway');
  const route = button.getAttribute('data-route');
  const out = $('action-result');
  const token = $('operator-token').value.trim();
  if (!token) {
    out.textContent = 'Enter the operator token first.';
    out.setAttribute('data-outcome', 'error');
    return;
  }
  button.disabled = true;
  out.textContent = `${action} ${route} on ${gateway}…`;
  out.setAttribute('data-outcome', 'pending');
  try {
    const response = await fetch('/api/actions', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action, gateway, route }),
    });
    const body = await response.json().catch(() => ({}));
    const ok = response.ok && body.status >= 200 && body.status < 300;
    out.textContent = ok
      ? `${action} ${route} on ${gateway}: done`
      : `${action} ${route} on ${gateway} failed: ${body.code ?? body.payload?.code ?? response.status} ${body.message ?? body.payload?.message ?? ''}`;
    out.setAttribute('data-outcome', ok ? 'ok' : 'error');
  } catch (err) {
    out.textContent = `${action} failed: ${err.message}`;
    out.setAttribute('data-outcome', 'error');
  } finally {
    button.disabled = false;
  }
}

/** Shows the token field when the server offers actions. */
export function showActions(enabled) {
  $('actions-bar').hidden = !enabled;
}

/** A cell of drain/resume buttons, one per gateway route of the service (resume when it is drained). */
export function actionCell(service) {
  return h(
    'td',
    { class: 'actions' },
    service.routes.map((r) => {
      const action = r.status === 'draining' || r.status === 'drained' ? 'resume' : 'drain';
      const button = h(
        'button',
        {
          class: `action action-${action}`,
          'data-action': action,
          'data-gateway': r.gateway,
          'data-route': r.route,
          title: `${action} route ${r.route} on ${r.gateway}: ${
            action === 'drain'
              ? 'stop accepting new connections, keep the live ones'
              : 'accept new connections again'
          }`,
        },
        action === 'drain' ? 'Drain' : 'Resume',
      );
      button.addEventListener('click', () => void act(button));
      return button;
    }),
  );
}
