import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleAccept } from './accept-handler';
import { handleConnect } from './connect-handler';
import type { RelayContext } from './context';
import { isWebSocketUpgrade } from './handshake';
import { rejectUpgrade, withTrackingId } from './http-response';
import { handleListen } from './listen-handler';
import { parseHcTarget } from './request-target';
import { countRefusal } from './stats';

/** Dispatches an HTTP upgrade on the relay's TLS server to the listen, connect or accept handler. */
export function routeUpgrade(ctx: RelayContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', (err) => ctx.logger.debug({ err: err.message }, 'socket error'));
  if (ctx.stopped) {
    socket.destroy();
    return;
  }
  const target = parseHcTarget(req.url);
  const refuse = (action: string, status: number, description: string): void => {
    countRefusal(ctx.counters, action, status);
    rejectUpgrade(socket, status, withTrackingId(description, ctx.namespace, target?.entityPath));
  };
  if (!target)
    return refuse('unknown', 404, 'Not Found: the path is not a hybrid connection address (/$hc/{path}).');
  if (!isWebSocketUpgrade(req))
    return refuse(target.action ?? 'unknown', 400, 'Bad Request: not a valid WebSocket upgrade.');

  const fail = (err: unknown): void => {
    ctx.logger.error({ err: (err as Error).message, hc: target.entityPath }, 'handshake failed');
    refuse(
      target.action ?? 'unknown',
      500,
      'Internal Server Error: something went wrong in the sandbox relay.',
    );
  };
  try {
    switch (target.action) {
      case 'listen':
        handleListen(ctx, req, socket, head, target).catch(fail);
        return;
      case 'connect':
        handleConnect(ctx, req, socket, head, target).catch(fail);
        return;
      case 'accept':
        handleAccept(ctx, req, socket, head, target);
        return;
      default:
        refuse('unknown', 400, 'Bad Request: sb-hc-action must be listen, connect or accept.');
    }
  } catch (err) {
    fail(err);
  }
}
