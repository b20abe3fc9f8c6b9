import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RelayContext } from './context';
import { offeredProtocols } from './handshake';
import { rejectUpgrade, withTrackingId } from './http-response';
import type { PendingRendezvous } from './rendezvous';
import type { HcRequestTarget } from './request-target';
import { countRefusal } from './stats';

/**
 * `sb-hc-action=accept`: a listener opens the address from an accept message. Without
 * `sb-hc-statusCode` it takes the connection (both upgrades complete, frames flow); with it, it rejects:
 * the sender gets that status and description, the listener's handshake fails with 410 as documented.
 * An unknown, expired or used address gets 403 ("The URL is not valid").
 */
export function handleAccept(
  ctx: RelayContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: HcRequestTarget,
): void {
  const refuse = (status: number, description: string): void => {
    countRefusal(ctx.counters, 'accept', status);
    ctx.logger.info(
      { hc: target.entityPath, connectionId: target.id, status, why: description },
      'accept refused',
    );
    rejectUpgrade(socket, status, withTrackingId(description, ctx.namespace, target.entityPath));
  };

  const key = target.query.get('sb-hc-rendezvous') ?? '';
  const pending = ctx.rendezvous.get(key);
  const resolved = ctx.registry.resolve(target.entityPath);
  if (!pending || !resolved || resolved.hc.name.toLowerCase() !== pending.hcName.toLowerCase())
    return refuse(403, 'Forbidden: the accept address is not valid (unknown, expired or already used).');

  const statusParam = target.query.get('sb-hc-statusCode');
  if (statusParam !== null) {
    const status = Number(statusParam);
    if (!/^\d{3}$/.test(statusParam) || status < 400 || status > 599)
      return refuse(400, 'Bad Request: sb-hc-statusCode must be an HTTP status code from 400 to 599.');
    ctx.rendezvous.take(key);
    ctx.counters.rejectedByListener++;
    countRefusal(ctx.counters, 'connect', status);
    const description = target.query.get('sb-hc-statusDescription') || STATUS_CODES[status] || 'Rejected';
    pending.releaseSender();
    rejectUpgrade(pending.senderSocket, status, description);
    ctx.logger.info(
      { hc: pending.hcName, connectionId: pending.id, status },
      'listener rejected the connection',
    );
    // Documented: "When completing correctly, this handshake intentionally fails with an HTTP error code 410".
    rejectUpgrade(socket, 410, 'Gone: the connection was rejected as requested.');
    return;
  }

  ctx.rendezvous.take(key);
  join(ctx, pending, req, socket, head);
}

function join(
  ctx: RelayContext,
  pending: PendingRendezvous,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  // The listener picks the sub-protocol (the accept message carried the sender's offer); the sender's
  // handshake answers with it only when the sender offered it.
  const chosen = offeredProtocols(req)[0];
  ctx.protocolChoice.set(req, chosen ?? false);
  ctx.protocolChoice.set(
    pending.senderReq,
    chosen !== undefined && offeredProtocols(pending.senderReq).includes(chosen) ? chosen : false,
  );
  const senderHead = pending.releaseSender();
  const senderSocket = pending.senderSocket;
  if (senderSocket.destroyed || !senderSocket.writable) {
    ctx.counters.sendersAbandoned++;
    return rejectUpgrade(
      socket,
      403,
      'Forbidden: the sender has gone; the accept address is no longer valid.',
    );
  }

  ctx.wss.handleUpgrade(req, socket, head, (listenerWs) => {
    let joined = false;
    ctx.wss.handleUpgrade(pending.senderReq, senderSocket, senderHead, (senderWs) => {
      joined = true;
      const tunnel = ctx.tunnels.open(pending.id, pending.hcName, senderWs, listenerWs);
      ctx.logger.info(
        { hc: pending.hcName, connectionId: pending.id, tunnelId: tunnel.id },
        'connection accepted',
      );
    });
    // ws destroys a sender socket that died in between without calling back: tell the listener.
    if (!joined) listenerWs.close(1001, 'The sender client shut down the connection.');
  });
}
