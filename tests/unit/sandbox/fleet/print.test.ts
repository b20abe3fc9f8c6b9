import type { ReconcileResult } from '../../../../cloud/src/reconcile/reconcile';
import type { FleetRow, LocationTimings } from '../../../../sandbox/src/fleet/location';
import {
  formatCheck,
  formatReconcile,
  formatTable,
  formatTimings,
  seconds,
  tryItLines,
} from '../../../../sandbox/src/fleet/print';

const ok = { ok: true, detail: 'fine' };
const ROWS: FleetRow[] = [
  {
    location: 'berlin',
    service: 'web',
    kind: 'http',
    publicPort: 20001,
    target: '127.0.0.1:40741',
    verified: ok,
  },
  {
    location: 'berlin',
    service: 'echo',
    kind: 'echo',
    publicPort: 20000,
    target: '127.0.0.1:38373',
    verified: ok,
  },
  {
    location: 'oslo',
    service: 'echo',
    kind: 'echo',
    publicPort: 20002,
    target: '127.0.0.1:1234',
    verified: { ok: false, detail: 'refused' },
  },
];

describe('fleet print', () => {
  it('prints the table: location, service, public port, target, state', () => {
    expect(formatTable(ROWS).split('\n')).toEqual([
      '  location  service  public port      target                      state',
      '  berlin    web      127.0.0.1:20001  127.0.0.1:40741 (HTTP)      reachable',
      '  berlin    echo     127.0.0.1:20000  127.0.0.1:38373 (TCP echo)  reachable',
      '  oslo      echo     127.0.0.1:20002  127.0.0.1:1234 (TCP echo)   unreachable',
    ]);
  });

  it('offers curl and nc (or a node one-liner) lines, each naming its service', () => {
    expect(tryItLines(ROWS.slice(0, 2), { hasNc: true })).toEqual([
      'curl http://127.0.0.1:20001/               # berlin / web',
      "printf 'hello\\n' | nc -q1 127.0.0.1 20000  # berlin / echo",
    ]);
    const [, echo] = tryItLines(ROWS.slice(0, 2), { hasNc: false });
    expect(echo).toBe(
      `node -e "const s=require('net').connect(20000,'127.0.0.1',()=>s.end('hello\\n'));s.pipe(process.stdout)"  # berlin / echo`,
    );
  });

  it('prints boot → reachable per location with the steps inside it', () => {
    const timings: LocationTimings = {
      provisionMs: 1040,
      dpsMs: 1012,
      forwarderStartedMs: 1090,
      reachableMs: 4349,
    };
    expect(
      formatTimings([
        { name: 'berlin', timings },
        { name: 'oslo', timings: { ...timings, reachableMs: 12000 } },
      ]),
    ).toBe(
      [
        '  berlin   4.3 s  (DPS registration 1.0 s, relay-forwarder started at 1.1 s; provisioning before boot 1.0 s)',
        '  oslo    12.0 s  (DPS registration 1.0 s, relay-forwarder started at 1.1 s; provisioning before boot 1.0 s)',
      ].join('\n'),
    );
    expect(seconds(49)).toBe('0.0 s');
  });

  it('prints each check and a verdict', () => {
    expect(
      formatCheck([
        { location: 'berlin', service: 'web', ok: true, detail: 'GET / → 200' },
        { location: 'oslo', service: 'echo', ok: false, detail: 'refused' },
      ]),
    ).toBe(
      [
        '  ok    berlin / web  GET / → 200',
        '  FAIL  oslo / echo   refused',
        'Check FAILED: 1 of 2 services did not answer as expected.',
      ].join('\n'),
    );
    expect(formatCheck([{ location: 'a', service: 'b', ok: true, detail: 'x' }])).toMatch(
      /Check passed: 1 of 1 services answered through the gateway\.$/,
    );
  });

  it('summarises a reconcile that did something, and stays quiet otherwise', () => {
    const result = (done: number, failed: number): ReconcileResult =>
      ({
        outcome: failed > 0 ? 'incomplete' : 'converged',
        actionsDone: done,
        actionsFailed: failed,
        durationMs: 12.6,
      }) as ReconcileResult;
    expect(formatReconcile(result(0, 0))).toBeUndefined();
    expect(formatReconcile(result(7, 0))).toBe('  fleet-controller: reconcile converged, 7 actions in 13 ms');
    expect(formatReconcile(result(2, 1))).toBe(
      '  fleet-controller: reconcile incomplete, 2 actions, 1 failed in 13 ms',
    );
  });
});
