// Runs fault cases one after another in one world, each bounded, and formats the table.
import { verdict, type CaseResult, type ChaosCase } from './cases';
import { ALL_CASES } from './catalog';
import { startWorld } from './case-kit';

const MiB = 1024 * 1024;

/** Runs `cases` in a fresh world (restarting the world after a case that broke it); never throws for a case. */
export async function runCases(
  cases: readonly ChaosCase[],
  log: (line: string) => void = () => undefined,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let world = await startWorld();
  try {
    for (const c of cases) {
      log(`chaos: ${c.name}: ${c.what}`);
      const started = Date.now();
      try {
        const r = await c.run(world);
        results.push({ name: c.name, what: c.what, ...r, pass: verdict(r) });
      } catch (err) {
        results.push({
          name: c.name,
          what: c.what,
          during: { sent: 0, received: 0, verified: 0, lost: 0, corrupt: 0, count: 0 },
          after: { sent: 0, received: 0, verified: 0, lost: 0, corrupt: 0, count: 0 },
          recoverMs: -1,
          held: {
            gatewaySockets: -1,
            forwarderSockets: -1,
            targetConnections: -1,
            gatewayRssMiB: -1,
            forwarderRssMiB: -1,
          },
          pass: false,
          note: `case failed: ${(err as Error).message}`,
        });
        await world.close().catch(() => undefined);
        world = await startWorld();
      }
      log(
        `chaos: ${c.name}: ${results[results.length - 1]!.pass ? 'pass' : 'FAIL'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await world.close();
  }
  return results;
}

/** The cases named (all when empty), or those of the CI subset. */
export function selectCases(names: readonly string[], ciOnly: boolean): ChaosCase[] {
  return ALL_CASES.filter(
    (c) => (ciOnly ? c.ci : true) && (names.length === 0 || names.some((n) => c.name.includes(n))),
  );
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** The one table: case, what was done, bytes, connections lost, recovery, held resources, verdict. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = [
    'case',
    'what was done',
    'sent/received/verified MiB (in flight)',
    'lost',
    'corrupt',
    'after: verified/lost',
    'recover s',
    'held gw sock / fwd sock / target conn',
    'RSS gw/fwd MiB',
    'verdict',
    'note',
  ];
  const rows = results.map((r) => [
    r.name,
    r.what,
    `${mib(r.during.sent)}/${mib(r.during.received)}/${mib(r.during.verified)}`,
    `${r.during.lost}/${r.during.count}`,
    String(r.during.corrupt + r.after.corrupt),
    `${r.after.count - r.after.lost}/${r.after.lost}`,
    r.recoverMs < 0 ? 'never' : (r.recoverMs / 1000).toFixed(1),
    `${r.held.gatewaySockets} / ${r.held.forwarderSockets} / ${r.held.targetConnections}`,
    `${r.held.gatewayRssMiB}/${r.held.forwarderRssMiB}`,
    r.pass ? 'pass' : 'FAIL',
    [r.note, r.held.detail].filter((n) => n).join('; '),
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
