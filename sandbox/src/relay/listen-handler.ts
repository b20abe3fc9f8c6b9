import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { authorize, findToken } from './authorize';
import type { RelayContext } from './context';
import { ControlChannel } from './control-channel';
import { rejectUpgrade, withTrackingId } from './http-response';
import { pickDelayMs } from './latency';
import type { HcRequestTarget } from './request-target';
import { countRefusal } from './stats';

/**
 * `sb-hc-action=listen`: registers a listener control channel. 404 unknown hybrid connection, 401/403 token
 * problems, 403 QuotaExceeded beyond the listener limit, else 101 and the channel is open.
 */
export async function handleListen(
  ctx: RelayContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: HcRequestTarget,
): Promise<void> {
  const refuse = (status: number, description: string): void => {
    countRefusal(ctx.counters, 'listen', status);
    ctx.logger.info({ hc: target.entityPath, status, why: description }, 'listener refused');
    rejectUpgrade(socket, status, withTrackingId(description, ctx.namespace, target.entityPath));
  };

  if (!ctx.registry.getHybridConnection(target.entityPath))
    return refuse(404, `Endpoint not found: there is no hybrid connection named "${target.entityPath}".`);
  await ctx.timers.sleep(pickDelayMs(ctx.latency.tokenCheckMs, ctx.random));
  if (socket.destroyed || ctx.stopped) return;
  // Looked up again: the hybrid connection may have been deleted during the token check.
  const hc = ctx.registry.getHybridConnection(target.entityPath);
  if (!hc)
    return refuse(404, `Endpoint not found: there is no hybrid connection named "${target.entityPath}".`);

  const presented = findToken(req, target.query);
  const verdict = authorize(ctx.registry, presented?.token, {
    namespace: ctx.namespace,
    entity: hc.name,
    right: 'Listen',
  });
  if (!verdict.ok) return refuse(verdict.status, verdict.reason);
  if (ctx.listeners.isFull(hc.name))
    return refuse(
      403,
      `QuotaExceeded: MaximumListenersPerEndpoint (${ctx.listeners.maxPerPath}) reached for this hybrid connection.`,
    );

  ctx.protocolChoice.set(req, false);
  ctx.wss.handleUpgrade(req, socket, head, (ws) => {
    const channel: ControlChannel = new ControlChannel(ws, hc.name, verdict.expiresAtMs, {
      timers: ctx.timers,
      logger: ctx.logger,
      verifyRenewal: (token) =>
        ctx.registry.getHybridConnection(hc.name)
          ? authorize(ctx.registry, token, { namespace: ctx.namespace, entity: hc.name, right: 'Listen' })
          : { ok: false, status: 403, reason: 'the hybrid connection no longer exists' },
      onRenewed: (accepted) =>
        accepted ? ctx.counters.tokenRenewals++ : ctx.counters.tokenRenewalsRefused++,
      onExpired: () => ctx.counters.tokenExpiryCloses++,
      onClose: (closed) => {
        ctx.listeners.remove(hc.name, closed);
        ctx.logger.info({ listenerId: closed.id, hc: hc.name }, 'listener disconnected');
      },
    });
    ctx.listeners.add(hc.name, channel);
    ctx.counters.listenersAccepted++;
    ctx.logger.info(
      {
        listenerId: channel.id,
        hc: hc.name,
        rule: verdict.ruleName,
        listeners: ctx.listeners.count(hc.name),
      },
      'listener connected',
    );
  });
}
