// The CI subset of the fault suite (npm run chaos runs every case, docs/chaos.md): real relay, gateway and
// forwarder processes, faults injected mid-transfer, every byte checked by sha256, held resources counted in /proc.
import { verdict, type CaseResult } from '../../bench/chaos/cases';
import { ALL_CASES } from '../../bench/chaos/catalog';
import { formatTable } from '../../bench/chaos/run';
import { startWorld } from '../../bench/chaos/case-kit';
import type { ChaosWorld } from '../../bench/chaos/world';

const CI_CASES = ALL_CASES.filter((c) => c.ci);

describe('fault suite (CI subset): nothing corrupted, everything recovers, nothing held', () => {
  let world: ChaosWorld;
  const results: CaseResult[] = [];

  beforeAll(async () => {
    world = await startWorld();
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    // The table of this run, for the CI log.
    if (results.length > 0) process.stdout.write(`${formatTable(results)}\n`);
  }, 60_000);

  it.each(CI_CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const r = await c.run(world);
      const result: CaseResult = { name: c.name, what: c.what, ...r, pass: verdict(r) };
      results.push(result);
      expect({
        // A killed gateway's kernel ends its clients with a FIN: those cut transfers cannot be told apart by TCP.
        corrupt: (r.clientPeerKilled ? 0 : r.during.corrupt) + r.after.corrupt,
        afterLost: r.after.lost,
        recovered: r.recoverMs >= 0,
        held: [r.held.gatewaySockets, r.held.forwarderSockets, r.held.targetConnections],
        pass: r.pass ?? true,
        note: r.note,
      }).toEqual({ corrupt: 0, afterLost: 0, recovered: true, held: [0, 0, 0], pass: true, note: r.note });
    },
    240_000,
  );
});
