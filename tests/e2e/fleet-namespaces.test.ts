// The sandbox fleet with two Relay namespaces (two sandbox relays on their own ports behind one ARM endpoint):
// the controller places the locations in both, a client reaches a service through each (sha256), a restarted
// controller moves nothing, and a location no namespace has room for is refused with NAMESPACE_CAPACITY.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { runController } from '../../cloud/src/run-controller';
import { startFleet, type Fleet } from '../../sandbox/src/fleet/world';
import { echoThrough } from '../support/echo-client';
import { sha256 } from '../support/tunnel-harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the sandbox fleet with two Relay namespaces', () => {
  let stateDir: string;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-fleet-ns-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('places locations in both namespaces, carries bytes through each, keeps them across a restart and refuses a full one', async () => {
    fleet = await startFleet({ stateDir, locations: ['berlin', 'oslo'], relayNamespaces: 2 });
    const { registry, arm, relay, extraRelays } = fleet.infra;
    expect(arm.namespaceNames).toEqual(['sandbox-relay', 'sandbox-relay-2']);
    const hostOf = { 'sandbox-relay': relay.namespace, 'sandbox-relay-2': extraRelays[0]!.namespace };
    expect(hostOf['sandbox-relay']).not.toBe(hostOf['sandbox-relay-2']);

    const statusOf = async (id: string) =>
      ((await registry.getTwin(id)).responseBody as unknown as Json).tags;
    const placed: Record<string, string> = {};
    for (const location of fleet.locations()) {
      const tags = await statusOf(location.deviceId);
      expect(tags.relayStatus).toMatchObject({ state: 'ok' });
      placed[location.name] = tags.relayStatus.namespace as string;
      // The forwarder listens, and the gateway sends, at the location's namespace, each with its own token.
      const host = hostOf[placed[location.name] as keyof typeof hostOf];
      const forwarder = (await registry.getModuleTwin(location.deviceId, 'relay-forwarder'))
        .responseBody as unknown as Json;
      expect(forwarder.properties.desired.hybridConnections[`hrf-${location.name}`].namespace).toBe(host);
      const gateway = (await registry.getModuleTwin('gateway-1', 'relay-gateway'))
        .responseBody as unknown as Json;
      expect(gateway.properties.desired.hybridConnections[`hrf-${location.name}`].namespace).toBe(host);

      // 512 KiB through the location's echo, over its namespace's relay, verified by SHA-256.
      const port = location.rows.find((r) => r.service === 'echo')!.publicPort;
      const payload = randomBytes(512 * 1024);
      const echoed = await echoThrough(port, payload);
      expect({ length: echoed.length, sha256: sha256(echoed) }).toEqual({
        length: payload.length,
        sha256: sha256(payload),
      });
    }
    expect(new Set(Object.values(placed))).toEqual(new Set(['sandbox-relay', 'sandbox-relay-2']));
    // Each relay really carries its own location's listeners.
    expect(Object.keys(relay.stats().listenersByPath)).toEqual([`hrf-${findKey(placed, 'sandbox-relay')}`]);
    expect(Object.keys(extraRelays[0]!.stats().listenersByPath)).toEqual([
      `hrf-${findKey(placed, 'sandbox-relay-2')}`,
    ]);

    // A restarted controller (a new process would do the same: nothing is kept but what IoT Hub and ARM hold),
    // with namespaces that are now full: nothing placed moves, and a newcomer is refused with the specific problem.
    await fleet.controller.stop();
    const controller = runController({
      settings: {
        pools: [...fleet.controller.settings.pools.values()],
        namespaces: [
          { name: 'sandbox-relay', maxHybridConnections: 1 },
          { name: 'sandbox-relay-2', maxHybridConnections: 1 },
        ],
      },
      iothub: { registry },
      arm: {
        credential: arm.credential(),
        subscriptionId: arm.subscriptionId,
        resourceGroup: arm.resourceGroup,
        namespaces: arm.namespaceNames.map((namespace) => ({ namespace })),
        endpoint: arm.endpoint,
        ca: arm.caPem,
      },
      logger: pino({ level: 'silent' }),
      start: false,
      pollIntervalMs: 0,
    });
    try {
      const idle = await controller.reconcileNow();
      expect(idle).toMatchObject({ outcome: 'converged', actionsDone: 0 });
      expect(idle.namespaces.map((n) => [n.name, n.hybridConnections, n.locations])).toEqual([
        ['sandbox-relay', 1, 1],
        ['sandbox-relay-2', 1, 1],
      ]);
      // A location without processes: processes are not the point here, the refusal is.
      await registry.create({ deviceId: 'tromso', capabilities: { iotEdge: true } } as never);
      await registry.updateTwin(
        'tromso',
        { tags: { relay: { role: 'location', services: { echo: { target: '127.0.0.1:9' } } } } },
        '*',
      );
      const refused = await controller.reconcileNow();
      expect(refused.outcome).toBe('converged');
      const tags = await statusOf('tromso');
      expect(tags.relayStatus).toMatchObject({ state: 'error', ports: {} });
      // (It also has no forwarder module yet: no device behind it, which is pending, not the refusal.)
      expect(tags.relayStatus.problems.NAMESPACE_CAPACITY).toMatch(/no Relay namespace has room/);
      expect(tags.relayStatus).not.toHaveProperty('namespace');
      for (const location of fleet.locations())
        expect((await statusOf(location.deviceId)).relayStatus.namespace).toBe(placed[location.name]);
      const names: string[] = [];
      for (const ns of arm.namespaceNames) for await (const hc of armList(arm, ns)) names.push(hc);
      expect(names.sort()).toEqual(['hrf-berlin', 'hrf-oslo']);
    } finally {
      await controller.stop();
    }
  }, 240_000);
});

function findKey(record: Record<string, string>, value: string): string {
  return Object.keys(record).find((k) => record[k] === value)!;
}

async function* armList(arm: Fleet['infra']['arm'], namespace: string): AsyncGenerator<string> {
  const { RelayAPI } = await import('@azure/arm-relay');
  const api = new RelayAPI(arm.credential(), arm.subscriptionId, arm.clientOptions());
  for await (const hc of api.hybridConnections.listByNamespace(arm.resourceGroup, namespace)) yield hc.name!;
}
