import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from '../../../modules/common/src/log';
import type { AuthorizeResult } from './authorize';
import { parseControlMessage } from './control-message';
import { truncateCloseReason } from './http-response';
import type { TimerSet } from './timers';

/** The `accept` control message, as the protocol reference defines it. */
export interface AcceptMessage {
  readonly accept: {
    readonly address: string;
    readonly id: string;
    readonly connectHeaders: Readonly<Record<string, string>>;
    readonly remoteEndpoint: { readonly address: string; readonly port: number };
  };
}

/** Close codes the protocol reference lists for a control channel the service shuts down. */
export const CONTROL_CLOSE = {
  /** "The Hybrid Connection path has been deleted or disabled." */
  entityGone: 1001,
  /** "The security token has expired, therefore the authorization policy is violated." */
  policyViolation: 1008,
  /** "Something went wrong in the service." (also what the daily listener restart looks like) */
  internalError: 1011,
} as const;

/** What a control channel needs from the relay around it. */
export interface ControlChannelDeps {
  readonly timers: TimerSet;
  readonly logger: Logger;
  /** Checks a renewal token for this channel's hybrid connection (Listen right). */
  readonly verifyRenewal: (token: string) => AuthorizeResult;
  readonly onRenewed: (accepted: boolean) => void;
  readonly onExpired: () => void;
  readonly onClose: (channel: ControlChannel) => void;
}

/**
 * One listener's control channel: carries accept messages to the listener, takes renewToken messages
 * from it, and closes with 1008 when its token expires unrenewed. Pings are answered by ws itself.
 */
export class ControlChannel {
  readonly id = randomUUID();
  readonly connectedAtMs = Date.now();
  private cancelExpiry: () => void = () => undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly hcName: string,
    private expiresAtMs: number,
    private readonly deps: ControlChannelDeps,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (err) =>
      deps.logger.debug({ listenerId: this.id, err: err.message }, 'control channel error'),
    );
    ws.once('close', () => {
      this.cancelExpiry();
      deps.onClose(this);
    });
    this.scheduleExpiry();
  }

  /** True while accept messages can be sent. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** When the channel's current token expires (ms since the epoch). */
  get tokenExpiresAtMs(): number {
    return this.expiresAtMs;
  }

  /** Sends an accept message; false when the channel is no longer open. */
  sendAccept(message: AcceptMessage): boolean {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Closes the channel with a code and reason (reason cut to fit a close frame). */
  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, truncateCloseReason(reason));
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  /** Drops the TCP connection without a close frame (relay shutdown). */
  terminate(): void {
    this.ws.terminate();
  }

  private scheduleExpiry(): void {
    this.cancelExpiry();
    this.cancelExpiry = this.deps.timers.after(this.expiresAtMs - Date.now(), () => {
      // Long-lived tokens exceed one timer's range: re-arm until the real expiry.
      if (Date.now() < this.expiresAtMs) return this.scheduleExpiry();
      this.deps.onExpired();
      this.close(CONTROL_CLOSE.policyViolation, 'The security token has expired.');
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const message = parseControlMessage(data, isBinary);
    if (message.kind === 'ignored') {
      this.deps.logger.debug({ listenerId: this.id, why: message.reason }, 'ignored a control message');
      return;
    }
    if (message.kind === 'badRenewToken') {
      this.deps.onRenewed(false);
      this.close(CONTROL_CLOSE.policyViolation, message.reason);
      return;
    }
    const token = message.token;
    const verdict = this.deps.verifyRenewal(token);
    if (!verdict.ok) {
      this.deps.onRenewed(false);
      this.deps.logger.info(
        { listenerId: this.id, hc: this.hcName, why: verdict.reason },
        'token renewal refused',
      );
      this.close(CONTROL_CLOSE.policyViolation, `Token renewal failed: ${verdict.reason}`);
      return;
    }
    this.expiresAtMs = verdict.expiresAtMs;
    this.scheduleExpiry();
    this.deps.onRenewed(true);
    this.deps.logger.debug(
      { listenerId: this.id, hc: this.hcName, expiresAt: new Date(verdict.expiresAtMs).toISOString() },
      'token renewed',
    );
  }
}
