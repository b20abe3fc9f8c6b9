import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { authorize, findToken } from './authorize';
import type { RelayContext } from './context';
import { connectHeadersOf, remoteEndpointOf } from './handshake';
import { rejectUpgrade, withTrackingId } from './http-response';
import { pickDelayMs } from './latency';
import { encodeEntityPath, type HcRequestTarget } from './request-target';
import { countRefusal } from './stats';

/**
 * `sb-hc-action=connect`: a sender asks for a listener. 404 unknown hybrid connection or no listener,
 * 401/403 token problems; otherwise the upgrade is held, one listener picked at random gets an accept
 * message, and the sender waits until that address is opened (tunnel), rejected (listener's status) or
 * the accept window closes (504).
 */
export async function handleConnect(
  ctx: RelayContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: HcRequestTarget,
): Promise<void> {
  const refuse = (status: number, description: string): void => {
    countRefusal(ctx.counters, 'connect', status);
    ctx.logger.info(
      { hc: target.entityPath, connectionId: target.id, status, why: description },
      'sender refused',
    );
    rejectUpgrade(socket, status, withTrackingId(description, ctx.namespace, target.entityPath));
  };

  const resolved = ctx.registry.resolve(target.entityPath);
  if (!resolved)
    return refuse(404, `Endpoint not found: there is no hybrid connection at "${target.entityPath}".`);
  const presented = findToken(req, target.query);
  if (resolved.hc.requiresClientAuthorization) {
    await ctx.timers.sleep(pickDelayMs(ctx.latency.tokenCheckMs, ctx.random));
    if (socket.destroyed || ctx.stopped) return;
    const verdict = authorize(ctx.registry, presented?.token, {
      namespace: ctx.namespace,
      entity: resolved.hc.name,
      right: 'Send',
    });
    if (!verdict.ok) return refuse(verdict.status, verdict.reason);
  }
  await ctx.timers.sleep(pickDelayMs(ctx.latency.rendezvousMs, ctx.random));
  if (socket.destroyed || ctx.stopped) return;
  const hc = ctx.registry.getHybridConnection(resolved.hc.name);
  if (!hc) return refuse(404, `Endpoint not found: there is no hybrid connection at "${target.entityPath}".`);
  const listener = ctx.listeners.pick(hc.name);
  if (!listener) return refuse(404, 'Endpoint not found: there are no listeners connected for the endpoint.');

  const key = randomBytes(16).toString('hex');
  const id = target.id ?? randomUUID();
  const query = [
    ...(target.forwardedQuery ? [target.forwardedQuery] : []),
    'sb-hc-action=accept',
    `sb-hc-id=${encodeURIComponent(id)}`,
    `sb-hc-rendezvous=${key}`,
  ].join('&');
  const address = `wss://${ctx.namespace}/$hc/${encodeEntityPath(hc.name)}${
    resolved.suffix ? encodeEntityPath(resolved.suffix) : ''
  }?${query}`;

  // Watch the held socket so a sender that gives up is noticed, keeping any early bytes for the WebSocket.
  const early: Buffer[] = [head];
  const onData = (chunk: Buffer): void => void early.push(chunk);
  socket.on('data', onData);
  const cancelTimer = ctx.timers.after(ctx.settings.acceptTimeoutMs, () => {
    if (!ctx.rendezvous.take(key)) return;
    ctx.counters.acceptTimeouts++;
    refuse(
      504,
      `Gateway Timeout: the listener did not accept the connection within ${ctx.settings.acceptTimeoutMs} ms.`,
    );
  });
  ctx.rendezvous.add({
    key,
    id,
    hcName: hc.name,
    senderReq: req,
    senderSocket: socket,
    listenerId: listener.id,
    cancelTimer,
    // Called in the same tick as the WebSocket takes the socket over, so no chunk can fall in between;
    // the socket keeps flowing (an explicit pause() would leave it stalled once ws attaches its reader).
    releaseSender: () => {
      socket.off('data', onData);
      return Buffer.concat(early);
    },
  });
  socket.once('close', () => {
    if (ctx.rendezvous.take(key)) ctx.counters.sendersAbandoned++;
  });

  const strippedHeader = presented?.source === 'authorization' ? 'authorization' : undefined;
  listener.sendAccept({
    accept: {
      address,
      id,
      connectHeaders: connectHeadersOf(req, strippedHeader),
      remoteEndpoint: remoteEndpointOf(req),
    },
  });
  ctx.counters.acceptsDispatched++;
  ctx.logger.debug({ hc: hc.name, connectionId: id, listenerId: listener.id }, 'accept dispatched');
}
