import type { CidrAllowList } from '../../common/src/net/cidr';
import type { RefusalReason } from './reasons';

/** A count of concurrent connections under a limit that may change while connections are open. */
export class ConnectionBudget {
  private used = 0;

  constructor(private max: number) {}

  /** Connections currently holding a slot. */
  get active(): number {
    return this.used;
  }

  /** The current limit. */
  get limit(): number {
    return this.max;
  }

  /** Changes the limit; connections above a lowered limit keep their slots, new ones wait until below it. */
  setLimit(limit: number): void {
    this.max = limit;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  /** Returns a slot. */
  release(): void {
    if (this.used > 0) this.used--;
  }
}

/** Admission outcome: a release function for the slots taken, or why the client is refused. */
export type Admission =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly reason: RefusalReason };

/**
 * Decides whether a client may connect: its source address must be in the route's allow-list, then the route and
 * the gateway must each have a free slot. The allow-list comes first so refused sources never compete for slots.
 * The returned `release` is idempotent.
 */
export function admitClient(
  remoteAddress: string | undefined,
  allowList: CidrAllowList,
  routeBudget: ConnectionBudget,
  globalBudget: ConnectionBudget,
): Admission {
  // Node reports no address for a socket the client already reset: that is a client leaving, not a refusal.
  if (remoteAddress === undefined) return { ok: false, reason: 'client-aborted' };
  if (!allowList.allows(remoteAddress)) return { ok: false, reason: 'not-allowed' };
  if (!routeBudget.tryAcquire()) return { ok: false, reason: 'route-limit' };
  if (!globalBudget.tryAcquire()) {
    routeBudget.release();
    return { ok: false, reason: 'global-limit' };
  }
  let released = false;
  return {
    ok: true,
    release: () => {
      if (released) return;
      released = true;
      routeBudget.release();
      globalBudget.release();
    },
  };
}
