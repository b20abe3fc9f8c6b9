import { FAILURE_CLOSE_CODES, TunnelCloseCode } from './close-codes';
import { isTunnelError } from './errors';

const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
const TIMED_OUT = new Set(['ETIMEDOUT', 'ETIMEOUT']);

/**
 * Picks the failure close code for an error met while dialing a target: a TunnelError keeps its own code,
 * Node's errno codes map to refused / not resolved / timed out, anything else is 4500.
 */
export function closeCodeForTargetError(err: unknown): number {
  if (isTunnelError(err) && err.closeCode !== undefined && FAILURE_CLOSE_CODES.has(err.closeCode)) {
    return err.closeCode;
  }
  const code = (err as { code?: unknown } | null)?.code;
  const name = (err as { name?: unknown } | null)?.name;
  if (code === 'ECONNREFUSED') return TunnelCloseCode.TARGET_REFUSED;
  if (typeof code === 'string' && UNRESOLVED.has(code)) return TunnelCloseCode.TARGET_UNRESOLVED;
  if ((typeof code === 'string' && TIMED_OUT.has(code)) || name === 'TimeoutError') {
    return TunnelCloseCode.TARGET_TIMEOUT;
  }
  return TunnelCloseCode.TARGET_ERROR;
}
