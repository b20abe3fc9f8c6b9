// Several controller replicas, one active: two fleet-controller processes (main.ts, default lease settings) share
// the lease in the sandbox IoT Hub. The leader is killed with SIGKILL in the middle of a reconcile of two dozen new
// locations (in its twin stage); the standby takes over once the lease has gone unrenewed for its duration and finishes the work.
// Shown: the takeover time (printed; the goal is ≤ 30 s), that the standby wrote nothing before it held the
// lease, that nothing the dead leader wrote is redone differently (ports in status tags and gateway routes, hybrid
// connections), that every twin carries the generation of the replica that wrote it last, and that no token in any
// twin lapsed at any moment (tokens of 40 s renewed with 30 s left, sampled every 250 ms throughout).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { parseSasToken } from '../../modules/common/src/hc/sas';
import type { JsonObject } from '../../cloud/src/model/json';
import {
  controllerProcessEnv,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import { waitFor } from '../support/tunnel-harness';

type Line = { msg: string; time: number; [key: string]: unknown };

interface Replica {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Line[];
  /** Local receive time of each line (ms), same index as `lines`. */
  readonly at: number[];
  exited: boolean;
}

const LOCATIONS = Array.from({ length: 24 }, (_, i) => `site-${String(i).padStart(2, '0')}`);

describe('controller failover', () => {
  let world: ControllerWorld;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
  });

  afterAll(async () => {
    for (const r of replicas) if (!r.exited) r.child.kill('SIGKILL');
    await Promise.all(
      replicas.map((r) => (r.exited ? undefined : new Promise((resolve) => r.child.once('exit', resolve)))),
    );
    await world.close();
  });

  function startReplica(name: string): Replica {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cloud/src/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...controllerProcessEnv(world),
        POLL_INTERVAL: '200ms',
        TOKEN_LIFETIME: '40s',
        TOKEN_RENEW_MARGIN: '30s',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const replica: Replica = { name, child, lines: [], at: [], exited: false };
    let rest = '';
    child.stdout.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop()!;
      for (const p of parts) {
        if (!p.trim()) continue;
        replica.lines.push(JSON.parse(p) as Line);
        replica.at.push(Date.now());
      }
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
    child.once('exit', () => (replica.exited = true));
    replicas.push(replica);
    return replica;
  }

  const has = (r: Replica, msg: string, pred: (l: Line) => boolean = () => true) =>
    r.lines.some((l) => l.msg === msg && pred(l));
  const indexOf = (r: Replica, msg: string) => r.lines.findIndex((l) => l.msg === msg);

  /** Every SAS token in every relay module twin, with where it is. */
  async function tokens(): Promise<{ where: string; expiresAtMs: number }[]> {
    const out: { where: string; expiresAtMs: number }[] = [];
    const twins: [string, string][] = [
      ['gw-1', 'relay-gateway'],
      ...LOCATIONS.map((l) => [l, 'relay-forwarder'] as [string, string]),
    ];
    for (const [deviceId, moduleId] of twins) {
      let desired: JsonObject;
      try {
        desired = await world.desired(deviceId, moduleId);
      } catch {
        continue; // not created yet
      }
      for (const [hc, entry] of Object.entries(
        (desired.hybridConnections ?? {}) as Record<string, JsonObject>,
      ))
        out.push({
          where: `${deviceId}/${moduleId}/${hc}`,
          expiresAtMs: parseSasToken(entry.sasToken as string).expiresAtSec * 1000,
        });
    }
    return out;
  }

  it('a standby takes over from a leader killed mid-reconcile, redoes nothing differently, no token lapses', async () => {
    const a = startReplica('A');
    await waitFor(() => has(a, 'lease acquired'), 'A to take the lease', 30_000);
    await waitFor(() => has(a, 'reconcile finished'), 'A to reconcile the empty fleet', 30_000);
    const b = startReplica('B');
    await waitFor(() => has(b, 'lease held by another replica; standing by'), 'B to stand by', 30_000);

    // Token watch: from now on, no token in any twin may be seen expired.
    const lapsed: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const now = Date.now();
        for (const t of await tokens()) if (t.expiresAtMs <= now) lapsed.push(`${t.where} at ${now}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Two dozen new locations: A's change poll starts a reconcile of 169 actions (120 ARM, then 49 twin writes).
    const aLinesBefore = a.lines.length;
    // Created in one go (in-process, synchronously) so A's change poll sees all of them at once: one reconcile.
    for (const id of LOCATIONS) {
      world.hub.createDevice(id, {
        iotEdge: true,
        tags: {
          relay: {
            role: 'location',
            services: { sql: { target: '10.0.0.5:1433' }, web: { target: '10.0.0.6:80' } },
          },
        },
      });
      world.hub.createModule(id, 'relay-forwarder');
    }
    // Killed in the twin stage, once it has written a port (the gateway's routes or a status tag), so the check
    // that nothing is redone differently has something to compare.
    const portWritten = () =>
      a.lines
        .slice(aLinesBefore)
        .some(
          (l) =>
            l.msg === 'reconcile action' &&
            (l.action === 'writeGatewayTwin' || l.action === 'writeLocationStatus'),
        );
    await waitFor(portWritten, 'A to be in the twin stage', 60_000);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => a.exited, 'A to die', 10_000);
    const aActions = a.lines.filter((l) => l.msg === 'reconcile action');
    // It died inside that one reconcile: every location got its hybrid connection (the ARM stage was done), some
    // twin writes were left.
    expect(a.lines.slice(aLinesBefore).some((l) => l.msg === 'reconcile finished')).toBe(false);

    // What the dead leader left: status-tag ports and gateway route ports.
    const leftPorts = new Map<string, number>();
    for (const id of LOCATIONS) {
      const ports = ((await world.tags(id)).relayStatus as JsonObject | undefined)?.ports as
        Record<string, number> | undefined;
      for (const [svc, port] of Object.entries(ports ?? {})) leftPorts.set(`${id}_${svc}`, port);
    }
    const routesLeft = ((await world.desired('gw-1', 'relay-gateway')).routes ?? {}) as Record<
      string,
      JsonObject
    >;
    for (const [route, r] of Object.entries(routesLeft)) {
      if (leftPorts.has(route)) expect(r.port).toBe(leftPorts.get(route));
      leftPorts.set(route, r.port as number);
    }

    await waitFor(() => has(b, 'lease acquired'), 'B to take the lease', 60_000);
    const takeoverMs = b.at[indexOf(b, 'lease acquired')]! - killedAt;
    const acquiredIndex = indexOf(b, 'lease acquired');
    await waitFor(
      () =>
        b.lines.some(
          (l, i) => i > acquiredIndex && l.msg === 'reconcile finished' && l.outcome === 'converged',
        ),
      'B to converge',
      60_000,
    );
    const convergedIndex = b.lines.findIndex(
      (l, i) => i > acquiredIndex && l.msg === 'reconcile finished' && l.outcome === 'converged',
    );
    const convergedMs = b.at[convergedIndex]! - killedAt;
    watching = false;
    await watch;

    // The standby wrote nothing before it held the lease.
    expect(b.lines.findIndex((l) => l.msg === 'reconcile action')).toBeGreaterThan(acquiredIndex);
    const generationA = a.lines.find((l) => l.msg === 'lease acquired')!.generation as number;
    const generationB = b.lines[acquiredIndex]!.generation as number;
    expect(generationB).toBe(generationA + 1);

    // Everything converged, and nothing A wrote was redone differently.
    expect(await world.hybridConnectionNames()).toEqual(LOCATIONS.map((l) => `hrf-${l}`));
    const routes = (await world.desired('gw-1', 'relay-gateway')).routes as Record<string, JsonObject>;
    expect(Object.keys(routes).sort()).toEqual(LOCATIONS.flatMap((l) => [`${l}_sql`, `${l}_web`]));
    for (const [route, port] of leftPorts) expect(routes[route]!.port).toBe(port);
    const ports = Object.values(routes).map((r) => r.port);
    expect(new Set(ports).size).toBe(ports.length);
    for (const id of LOCATIONS) {
      const status = (await world.tags(id)).relayStatus as JsonObject;
      expect(status.state).toBe('ok');
      for (const svc of ['sql', 'web'])
        expect((status.ports as JsonObject)[svc]).toBe(routes[`${id}_${svc}`]!.port);
    }
    // Each action kind A ran for a hybrid connection, B ran with the same identifiers if it ran it again.
    for (const act of aActions.filter((l) => l.action === 'createHybridConnection')) {
      const again = b.lines.filter(
        (l) =>
          l.msg === 'reconcile action' &&
          l.action === act.action &&
          l.hybridConnection === act.hybridConnection,
      );
      for (const l of again) expect(l.location).toBe(act.location);
    }
    // Fencing stamps: every twin carries the generation of the replica that wrote it last.
    const stampOf = async (deviceId: string, moduleId?: string): Promise<unknown> => {
      const { responseBody } = moduleId
        ? await world.registry.getModuleTwin(deviceId, moduleId)
        : await world.registry.getTwin(deviceId);
      return (
        (responseBody as unknown as { tags: JsonObject }).tags.relayController as JsonObject | undefined
      )?.generation;
    };
    const twinWrites = (r: Replica) =>
      r.lines.filter(
        (l) =>
          l.msg === 'reconcile action' &&
          ['writeForwarderTwin', 'writeGatewayTwin', 'writeLocationStatus'].includes(l.action as string),
      );
    const key = (l: Line) => `${l.deviceId as string}/${(l.moduleId as string | undefined) ?? ''}`;
    const writtenByB = new Set(twinWrites(b).map(key));
    expect(writtenByB.size).toBeGreaterThan(0);
    for (const l of [...twinWrites(a), ...twinWrites(b)]) {
      const expected = writtenByB.has(key(l)) ? generationB : generationA;
      expect(await stampOf(l.deviceId as string, l.moduleId as string | undefined)).toBe(expected);
    }
    expect(lapsed).toEqual([]);

    console.log(
      `failover (lease 15 s default): kill -9 of the leader after ${aActions.length} actions → standby leads in ` +
        `${(takeoverMs / 1000).toFixed(1)} s, fleet converged ${(convergedMs / 1000).toFixed(1)} s after the kill; ` +
        `tokens lapsed: ${lapsed.length}; ports moved: 0 of ${leftPorts.size} written by the dead leader`,
    );
    b.child.kill('SIGTERM');
    await waitFor(() => b.exited, 'B to stop', 15_000);
    expect(has(b, 'lease released')).toBe(true);
  }, 180_000);
});
