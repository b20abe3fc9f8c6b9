/**
 * A sandbox stand-in of bench/controller-reconcile.ts in a process of its own, so the bench process's CPU time is
 * the controller's: `hub` (the sandbox IoT Hub, started as sandbox/src/iothub-main.ts starts it) or `arm` (the
 * sandbox Relay ARM endpoint over `--namespaces` sandbox relays). Forked with an IPC channel; answers the
 * requests of stand-in-client.ts: seeding the fleet and reading the hub's call counts and twin sizes in-process
 * (10,000 devices through REST would take longer than the reconcile under test), and its own CPU time.
 */
import { documentBytes } from '../../cloud/src/model/documents';
import type { JsonObject } from '../../cloud/src/model/json';
import { startSandboxArm } from '../../sandbox/src/arm';
import type { SandboxIotHub } from '../../sandbox/src/iothub';
import { parseIotHubMainArgs, startIotHubProcess } from '../../sandbox/src/iothub-main';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import type { StandInReply, StandInRequest } from './stand-in-protocol';

type Handler = (request: StandInRequest) => unknown;

async function startHub(
  argv: readonly string[],
): Promise<{ ready: unknown; handle: Handler; stop(): Promise<void> }> {
  const { hub, info } = await startIotHubProcess(parseIotHubMainArgs(argv));
  const handle: Handler = (request) => {
    switch (request.op) {
      case 'seed':
        for (const d of request.devices) {
          hub.createDevice(d.deviceId, { iotEdge: true, tags: d.tags });
          for (const moduleId of d.modules) hub.createModule(d.deviceId, moduleId);
        }
        // Seeding is not the controller's: count only its calls from here on.
        hub.serviceThrottle.setRates({});
        return hub.serviceThrottle.snapshot();
      case 'calls':
        return hub.serviceThrottle.snapshot();
      case 'desiredBytes':
        return request.modules.map(([deviceId, moduleId]) => desiredBytes(hub, deviceId, moduleId));
      default:
        throw new Error(`the hub stand-in does not answer ${request.op}`);
    }
  };
  return { ready: info, handle, stop: () => hub.stop() };
}

function desiredBytes(hub: SandboxIotHub, deviceId: string, moduleId: string): number {
  const twin = hub.getTwin(deviceId, moduleId) as { properties: { desired: JsonObject } };
  const { $version: _v, $metadata: _m, ...desired } = twin.properties.desired;
  return documentBytes(desired);
}

async function startArm(
  namespaces: number,
): Promise<{ ready: unknown; handle: Handler; stop(): Promise<void> }> {
  const pki = await generateSandboxPki();
  const relays: SandboxRelay[] = [];
  for (let i = 0; i < namespaces; i++) relays.push(await startSandboxRelay({ pki }));
  const arm = await startSandboxArm({
    relay: relays[0]!,
    pki,
    extraNamespaces: relays.slice(1).map((relay, i) => ({ namespaceName: `sandbox-relay-${i + 2}`, relay })),
  });
  return {
    ready: {
      endpoint: arm.endpoint,
      caPem: arm.caPem,
      subscriptionId: arm.subscriptionId,
      resourceGroup: arm.resourceGroup,
      namespaceNames: arm.namespaceNames,
      tokenSecret: arm.tokenSecret,
    },
    handle: (request) => {
      throw new Error(`the ARM stand-in does not answer ${request.op}`);
    },
    stop: async () => {
      await arm.stop();
      for (const relay of relays) await relay.stop();
    },
  };
}

async function main(): Promise<void> {
  const [role, ...argv] = process.argv.slice(2);
  const send = (reply: StandInReply) => process.send!(reply);
  const standIn = role === 'arm' ? await startArm(Number(argv[0] ?? '1')) : await startHub(argv);
  process.on('message', (request: StandInRequest) => {
    if (request.op === 'stop') {
      standIn.stop().then(
        () => {
          send({ id: request.id, ok: true, value: process.cpuUsage() });
          process.disconnect();
        },
        (err: unknown) => send({ id: request.id, ok: false, error: String(err) }),
      );
      return;
    }
    try {
      const value = request.op === 'cpu' ? process.cpuUsage() : standIn.handle(request);
      send({ id: request.id, ok: true, value });
    } catch (err) {
      send({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
  // The parent going away (a failed bench) takes the stand-in with it.
  process.on('disconnect', () => process.exit(0));
  send({ id: 0, ok: true, value: standIn.ready });
}

main().catch((err: unknown) => {
  process.stderr.write(`stand-in failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(70);
});
