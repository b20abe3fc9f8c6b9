// Token expiry: the modules run on pre-issued SAS tokens of a few seconds (the fleet controller's way, here
// renewed by rewriting the config files), so tokens expire and are replaced while transfers are in flight.
import type { ChaosCase } from './cases';
import { inOwnWorld, longTransfers, probeLoop, settle, sleep } from './case-kit';

/** Lifetime of the pre-issued tokens: several renewals fit in one transfer. */
const LIFETIME_MS = 6_000;
/** How long the transfers in flight last: about four token lifetimes. */
const SPAN_MS = 24_000;
/** A listener may be gone at most this long before new clients notice (a reconnect, not an outage). */
const RECOVERY_BOUND_MS = 10_000;

/**
 * Tokens renewed in time: the forwarder hands each new token to its live control channels (renewToken) and the
 * gateway signs new tunnels with it. Nothing may be cut and no new client refused.
 */
export const tokenRenewal: ChaosCase = {
  name: 'token renewal',
  what: `pre-issued tokens of ${LIFETIME_MS / 1000} s, fresh ones written every 2 s during ${SPAN_MS / 1000} s transfers`,
  // Not in CI: a world of its own and 24 s transfers, about a minute.
  ci: false,
  run: () =>
    inOwnWorld({ tokenLifetimeMs: LIFETIME_MS, tokenRenewEveryMs: 2_000 }, async (world) => {
      const baseline = world.held();
      const probes = probeLoop(world.ports.sink);
      const during = await longTransfers(world, 3, SPAN_MS);
      const seen = await probes.stop();
      const { after, held } = await settle(world, baseline);
      return {
        during,
        after,
        recoverMs: 0,
        held,
        note: `${seen.failed}/${seen.probes} probes failed meanwhile`,
        // Renewal is routine: every transfer verifies and no new client is refused.
        pass: during.lost === 0 && seen.failed === 0,
      };
    }),
};

/**
 * Tokens that run out: renewal stops, the relay closes the listeners' control channels (1008) and refuses new
 * tunnels (401); the tunnels already open must carry on, and once fresh tokens arrive listeners and new clients
 * come back within the bound.
 */
export const tokenExpiry: ChaosCase = {
  name: 'token expiry',
  what: `pre-issued tokens of ${LIFETIME_MS / 1000} s run out mid-transfer, fresh ones written 5 s after expiry`,
  // Not in CI: a world of its own and 24 s transfers, about a minute.
  ci: false,
  run: () =>
    inOwnWorld({ tokenLifetimeMs: LIFETIME_MS, tokenRenewEveryMs: 2_000 }, async (world) => {
      const baseline = world.held();
      const transfers = longTransfers(world, 3, SPAN_MS);
      await sleep(2_000);
      // The last tokens written (at most 2 s ago) now run out unrenewed.
      world.setTokenRenewal(undefined);
      await world.renewTokens();
      await sleep(LIFETIME_MS + 5_000);
      const expired = await world.timeToRecover(2_000);
      await world.renewTokens();
      world.setTokenRenewal(2_000);
      const recoverMs = await world.timeToRecover(RECOVERY_BOUND_MS + 30_000);
      const during = await transfers;
      const { after, held } = await settle(world, baseline);
      return {
        during,
        after,
        recoverMs,
        held,
        note:
          expired < 0
            ? 'new clients refused while the tokens were expired'
            : 'a client got through on an expired token',
        // Expiry ends control channels and refuses new tunnels; it must not cut a tunnel already open.
        pass: during.lost === 0 && expired < 0 && recoverMs >= 0 && recoverMs <= RECOVERY_BOUND_MS,
      };
    }),
};
