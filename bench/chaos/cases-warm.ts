// Pre-warmed tunnels under faults (issue 13): the gateway's routes keep warm relay connections, the relay dies and
// comes back, and clients must get working connections again; and one client that stops reading must not stall
// the others on its route.
import { inFlight, type ChaosCase } from './cases';
import { connectionsTo, inOwnWorld, settle, sleep } from './case-kit';
import { addTotals, download, noTotals, probe, upload, type TransferTotals } from './transfers';
import { DOWNLOAD_BYTES, type ChaosWorld } from './world';

const MiB = 1024 * 1024;
/** Warm connections per route: the default of the gateway's config. */
const WARM = 2;
/** Clients opened one after another right after recovery: none may get a dead warm connection. */
const FIRST_CLIENTS = 20;
/**
 * Pools follow the client rate over a 10 s window (warm-pool.ts): once it is past they are back at their idle
 * size (1 per route that had a client), which the baseline holds too; the settle bound waits that out.
 */
const POOL_SETTLE_MS = 25_000;

/** Uses the sink and source routes once (their pools fill) and lets the rate window pass: the pools' idle size. */
async function warmBaseline(world: ChaosWorld): Promise<void> {
  await probe(world.ports.sink, 30_000);
  await download(world.ports.source, MiB, { timeoutMs: 30_000 });
  await sleep(11_000);
}

/** The gateway's connections to the relay: at idle, its warm connections. */
function warmNow(world: ChaosWorld): number {
  return connectionsTo(world.gateway?.pid, world.relayPortNumber);
}

/** `count` short verified uploads, one after another: a warm connection found dead must be replaced unnoticed. */
async function oneAfterAnother(world: ChaosWorld, count: number): Promise<TransferTotals> {
  let totals = noTotals();
  for (let i = 0; i < count; i++)
    totals = addTotals(totals, await upload(world.ports.sink, 1024, 40 + i, { timeoutMs: 30_000 }));
  return totals;
}

/** The relay restart 1 s case with warm connections on. */
export const relayRestartWarm: ChaosCase = {
  name: 'relay restart 1 s, warm',
  what: `warm connections on (${WARM} per route); kill -9 the relay mid-transfer, 1 s down, start it again`,
  // Not in CI: a world of its own, and the pools' 10 s rate window waited out twice (about a minute).
  ci: false,
  run: () =>
    inOwnWorld({ warmConnections: WARM }, async (world) => {
      await warmBaseline(world);
      const baseline = world.held();
      const warmBefore = warmNow(world);
      const inflight = inFlight(world, 3, 150_000);
      await sleep(400);
      await world.killRelay();
      await sleep(1_000);
      await world.startRelay();
      const recoverMs = await world.timeToRecover(90_000);
      // Right after recovery, before the pools are known to be refilled: every client must get through.
      const first = await oneAfterAnother(world, FIRST_CLIENTS);
      const { totals, note } = await inflight;
      const after = await settle(world, baseline, POOL_SETTLE_MS);
      const warmAfter = warmNow(world);
      return {
        during: totals,
        after: addTotals(after.after, first),
        recoverMs,
        held: after.held,
        note:
          `${first.verified / 1024}/${FIRST_CLIENTS} clients right after recovery verified; ` +
          `idle relay connections of the gateway (its warm pools) ${warmBefore} before, ${warmAfter} after${note ? `; ${note}` : ''}`,
        // Pools in use before the fault and refilled after it; no client got a dead warm connection.
        pass: first.lost === 0 && warmBefore > 0 && warmAfter > 0,
      };
    }),
};

/** How long the one reader stops. */
const STOP_MS = 30_000;

/**
 * One download stops reading for 30 s while 6 others (and 6 uploads) on the same routes run; they must all finish
 * while it is stopped, and the stopped one must then complete intact.
 */
export const slowReaderWarm: ChaosCase = {
  name: 'one reader stops, warm',
  what: `warm connections on; one download stops reading for ${STOP_MS / 1000} s while 6 downloads and 6 uploads share its routes`,
  // Not in CI: a world of its own and a 30 s stop (about 80 s).
  ci: false,
  run: () =>
    inOwnWorld({ warmConnections: WARM }, async (world) => {
      await warmBaseline(world);
      const baseline = world.held();
      const warm = warmNow(world);
      const stoppedAt = Date.now();
      const stalled = download(world.ports.source, DOWNLOAD_BYTES, { stallMs: STOP_MS, timeoutMs: 120_000 });
      await sleep(500);
      const others: Array<Promise<TransferTotals>> = [];
      for (let i = 0; i < 6; i++) {
        others.push(download(world.ports.source, DOWNLOAD_BYTES, { timeoutMs: 60_000 }));
        others.push(upload(world.ports.sink, 2 * MiB, 60 + i, { timeoutMs: 60_000 }));
      }
      const beside = (await Promise.all(others)).reduce(addTotals, noTotals());
      // Finished while the reader was still stopped: it held nothing of theirs up.
      const besideMs = Date.now() - stoppedAt;
      const slow = await stalled;
      const after = await settle(world, baseline, POOL_SETTLE_MS);
      return {
        during: addTotals(beside, slow),
        after: after.after,
        recoverMs: 0,
        held: after.held,
        note: `${warm} warm connections at the start; the 12 beside it done ${(besideMs / 1000).toFixed(1)} s after it stopped reading; the stopped reader ${slow.verified > 0 ? 'verified' : 'lost'}`,
        // Nothing cut or held up: the others finished while the reader was stopped, and it completed after.
        pass: beside.lost === 0 && besideMs < STOP_MS && slow.verified === DOWNLOAD_BYTES,
      };
    }),
};
