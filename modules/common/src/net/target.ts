import net, { isIP } from 'node:net';

/** Where a tunnel ends: a TCP host and port, or a Unix domain socket path. */
export type TargetAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** Why a dial failed, in the terms the tunnel close codes distinguish. */
export type DialFailureCause = 'refused' | 'timeout' | 'dns' | 'other';

/** Stable codes of TargetError. */
export type TargetErrorCode = 'TARGET_INVALID' | 'DIAL_REFUSED' | 'DIAL_TIMEOUT' | 'DIAL_DNS' | 'DIAL_FAILED';

/** A target that cannot be parsed, or a dial that failed; `cause` of a dial failure is the underlying system error. */
export class TargetError extends Error {
  override readonly name = 'TargetError';

  constructor(
    readonly code: TargetErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The close-code cause of a dial failure (`other` for a parse error, which never reaches a dial). */
  get dialCause(): DialFailureCause {
    return DIAL_CAUSE_BY_CODE[this.code];
  }
}

const DIAL_CAUSE_BY_CODE: Record<TargetErrorCode, DialFailureCause> = {
  TARGET_INVALID: 'other',
  DIAL_REFUSED: 'refused',
  DIAL_TIMEOUT: 'timeout',
  DIAL_DNS: 'dns',
  DIAL_FAILED: 'other',
};

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * Parses `host:port`, `[ipv6]:port` or `unix:/absolute/path`. Throws TARGET_INVALID with a message that says
 * what is wrong (the message never repeats more than the text given).
 */
export function parseTarget(text: string): TargetAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path.startsWith('/'))
      throw invalid(text, 'a Unix socket path must be absolute (unix:/path/to.sock)');
    if (path.includes('\0')) throw invalid(text, 'a Unix socket path must not contain NUL');
    return { kind: 'unix', path };
  }
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw invalid(text, 'missing "]" after the IPv6 address');
    host = text.slice(1, close);
    if (isIP(host) !== 6) throw invalid(text, `"${host}" is not an IPv6 address`);
    if (text[close + 1] !== ':') throw invalid(text, 'expected ":port" after "]"');
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw invalid(text, 'expected host:port, [ipv6]:port or unix:/path');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw invalid(text, 'an IPv6 address must be written in brackets: [addr]:port');
    if (host === '') throw invalid(text, 'the host is empty');
    if (isIP(host) === 0 && !HOSTNAME.test(host)) throw invalid(text, `"${host}" is not a valid host name`);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) throw invalid(text, `port "${portText}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw invalid(text, `port ${port} is outside 1-65535`);
  return { kind: 'tcp', host, port };
}

/** The canonical text of a target (the inverse of parseTarget). */
export function formatTarget(target: TargetAddress): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** True when both describe the same endpoint. */
export function sameTarget(a: TargetAddress, b: TargetAddress): boolean {
  return formatTarget(a) === formatTarget(b);
}

/** Options for dialTarget. */
export interface DialOptions {
  /** Give up (DIAL_TIMEOUT) when name lookup plus connect take longer than this. */
  readonly connectTimeoutMs: number;
  /** Aborting destroys the half-open socket and rejects with DIAL_FAILED. */
  readonly signal?: AbortSignal;
  /** Socket factory, `net.connect` unless a test needs a peer that never answers. */
  readonly connect?: (options: net.NetConnectOpts) => net.Socket;
}

/**
 * Connects to a target. Resolves with a connected socket (no timeout left on it); rejects with a TargetError
 * whose code tells refused, timed out, DNS failure and anything else apart.
 */
export function dialTarget(target: TargetAddress, options: DialOptions): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new TargetError('DIAL_FAILED', `dial ${formatTarget(target)} aborted`, false));
      return;
    }
    const connect = options.connect ?? net.connect;
    const socket =
      target.kind === 'unix'
        ? connect({ path: target.path })
        : // No Nagle toward the target, as the gateway's client sockets: the sender's own stack already decided
          // how to segment, and the tunnel must not add a delayed-ACK wait to a write-write-read exchange.
          connect({ host: target.host, port: target.port, noDelay: true });
    let settled = false;
    const finish = (error?: TargetError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const onConnect = (): void => finish();
    const onError = (err: Error): void => finish(dialError(target, err));
    const onAbort = (): void =>
      finish(new TargetError('DIAL_FAILED', `dial ${formatTarget(target)} aborted`, false));
    // One timer covers lookup and connect: the budget is what the remote side waits for, whatever the phase.
    const timer = setTimeout(
      () =>
        finish(
          new TargetError(
            'DIAL_TIMEOUT',
            `connect to ${formatTarget(target)} timed out after ${options.connectTimeoutMs} ms`,
            true,
          ),
        ),
      options.connectTimeoutMs,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOENT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

/**
 * Maps a system error from connect() to the close-code cause (a missing Unix socket counts as refused). When
 * every address of a host failed (Happy Eyeballs' AggregateError), the first attempt's code decides.
 */
export function classifyDialError(err: unknown): DialFailureCause {
  const code = errorCode(err);
  if (REFUSED_CODES.has(code)) return 'refused';
  if (DNS_CODES.has(code)) return 'dns';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  return 'other';
}

function errorCode(err: unknown): string {
  const e = err as (NodeJS.ErrnoException & { errors?: unknown[] }) | undefined;
  if (e?.code) return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  return '';
}

function dialError(target: TargetAddress, err: Error): TargetError {
  const cause = classifyDialError(err);
  const code = errorCode(err) || 'unknown';
  const where = formatTarget(target);
  switch (cause) {
    case 'refused':
      return new TargetError('DIAL_REFUSED', `connection to ${where} refused (${code})`, true, {
        cause: err,
      });
    case 'dns':
      return new TargetError('DIAL_DNS', `cannot resolve ${where} (${code})`, true, { cause: err });
    case 'timeout':
      return new TargetError('DIAL_TIMEOUT', `connect to ${where} timed out (${code})`, true, { cause: err });
    default:
      return new TargetError('DIAL_FAILED', `connect to ${where} failed (${code})`, true, { cause: err });
  }
}

function invalid(text: string, detail: string): TargetError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return new TargetError('TARGET_INVALID', `invalid target "${shown}": ${detail}`, false);
}
