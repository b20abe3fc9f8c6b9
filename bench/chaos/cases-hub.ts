// IoT Hub outage with a twin change pending: both modules run in twin mode against a sandbox IoT Hub process; their
// link to the hub is cut, a change (a new service and a route to it) is made on the hub, the hub is killed -9 and
// started again, the link restored. The modules must reconnect and apply the change while the tunnels carry on.
import type { ChaosCase } from './cases';
import { inOwnWorld, longTransfers, settle, sleep } from './case-kit';
import { probe } from './transfers';
import { freePort, SITE, TWIN_IDS, type ChaosWorld } from './world';
import type { ChaosHub, TwinIdentity } from './twin-hub';

/** How long the hub stays down. */
const DOWN_MS = 5_000;
/** From the hub's restart until the change carries bytes: the modules' reconnect backoff and the apply. */
const RECOVERY_BOUND_MS = 90_000;

/** Polls `port` with verified probes until one passes (ms taken) or `boundMs` passes (-1). */
async function untilCarries(port: number, boundMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < boundMs) {
    if (await probe(port, 5_000)) return Date.now() - started;
    await sleep(250);
  }
  return -1;
}

/** Waits (bounded) until the module reports the newest desired version applied; true when it did. */
async function applied(hub: ChaosHub, id: TwinIdentity, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const state = await hub.configState(id).catch(() => undefined);
    if (state && state.version === state.desiredVersion) return true;
    await sleep(250);
  }
  return false;
}

/** The change: service `late` on the forwarder (to the sink) and route `late` on the gateway (or both removed). */
async function patchLate(world: ChaosWorld, hub: ChaosHub, port: number | null): Promise<void> {
  const service = port === null ? null : { target: `127.0.0.1:${world.targets.sink.port}` };
  const route =
    port === null
      ? null
      : {
          port,
          bindAddress: '127.0.0.1',
          hybridConnection: SITE,
          service: 'late',
          allow: ['127.0.0.0/8'],
          // Like the world's routes (world.ts): "held" compares socket counts with the baseline, and a warm or
          // multiplexed pool would hold relay connections of its own.
          warmConnections: 0,
          multiplex: false,
        };
  await hub.patchDesired(TWIN_IDS.forwarder, {
    hybridConnections: { [SITE]: { services: { late: service } } },
  });
  await hub.patchDesired(TWIN_IDS.gateway, { routes: { late: route } });
}

/** The case. */
export const hubOutage: ChaosCase = {
  name: 'IoT Hub outage, twin change pending',
  what: `twin mode; modules cut from the hub, a new service and route patched, hub kill -9, ${DOWN_MS / 1000} s down, restarted, link restored`,
  // Not in CI: a twin-mode world of its own (hub process), the modules' MQTT reconnect backoff; about 90 s.
  ci: false,
  run: () =>
    inOwnWorld({ twin: true }, async (world) => {
      const hub = world.hub!;
      const latePort = await freePort();
      const baseline = world.held();
      const transfers = longTransfers(world, 3, 20_000);
      await sleep(1_000);
      hub.cutLink();
      await patchLate(world, hub, latePort);
      const pending = await Promise.all([
        hub.configState(TWIN_IDS.forwarder),
        hub.configState(TWIN_IDS.gateway),
      ]);
      // Coalesced state writes of the hub: give it a moment, as a real hub acknowledges only what is durable.
      await sleep(1_000);
      await hub.kill();
      // The data path does not need the hub: new clients still get through while it is down.
      const meanwhile = await probe(world.ports.sink, 10_000);
      await sleep(DOWN_MS);
      await hub.restart();
      hub.restoreLink();
      const recoverMs = await untilCarries(latePort, RECOVERY_BOUND_MS);
      const both =
        (await applied(hub, TWIN_IDS.forwarder, 30_000)) && (await applied(hub, TWIN_IDS.gateway, 30_000));
      const during = await transfers;
      // The route and service go again, so what the change added is not counted as held.
      await patchLate(world, hub, null);
      const removed =
        (await applied(hub, TWIN_IDS.forwarder, 30_000)) && (await applied(hub, TWIN_IDS.gateway, 30_000));
      const { after, held } = await settle(world, baseline);
      const wasPending = pending.every((s) => s.version !== s.desiredVersion);
      return {
        during,
        after,
        recoverMs,
        held,
        note:
          `change pending at the kill: ${wasPending ? 'yes' : 'no'}; new clients while the hub was down: ` +
          `${meanwhile ? 'served' : 'refused'}; change applied by both: ${both ? 'yes' : 'no'}; removed again: ${removed ? 'yes' : 'no'}`,
        pass: wasPending && meanwhile && both && removed && during.lost === 0,
      };
    }),
};
