// `provision deployments` (automatic deployments through the unmodified azure-iothub Registry) and the edge-agent
// stand-in acting on them: a location gets relay-forwarder as a process, which connects and reports; when the
// device's tags stop matching the forwarder layer, the forwarder stops (and the gateway layer's module starts).
import type { Configuration } from 'azure-iothub';
import { join } from 'node:path';
import { buildDeploymentContents, planDeployments } from '../../provisioning/src/adm/plan';
import { startSandboxEdgeDevice, type SandboxEdgeDevice } from '../../sandbox/src/edge-agent';
import { TEMPLATE_VARIABLES } from '../support/provisioning-fixtures';
import { startProvisioningWorld, type ProvisioningWorld } from '../support/provisioning-world';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function ours(world: ProvisioningWorld): Promise<Configuration[]> {
  const all = (await world.registry.getConfigurations()).responseBody;
  return all
    .filter((c) => c.labels?.managedBy === 'hybrid-relay-fleet')
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function reportedOf(world: ProvisioningWorld, deviceId: string, moduleId: string): Promise<Json> {
  const twin = (await world.registry.getModuleTwin(deviceId, moduleId)).responseBody as unknown as Json;
  return twin.properties.reported as Json;
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('provision deployments and the edge-agent stand-in', () => {
  let world: ProvisioningWorld;
  const devices: SandboxEdgeDevice[] = [];

  beforeAll(async () => {
    world = await startProvisioningWorld();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await world?.close();
  });

  it('creates the three deployments once; a second run changes nothing; new content replaces the old version', async () => {
    const first = await world.cli(['deployments', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as Json;
    expect(created.deployments.map((d: Json) => [d.role, d.outcome])).toEqual([
      ['base', 'created'],
      ['forwarder', 'created'],
      ['gateway', 'created'],
    ]);
    const before = await ours(world);
    expect(before.map((c) => [c.targetCondition, c.priority])).toEqual([
      ["tags.relay.role='location' OR tags.relay.role='gateway'", 10],
      ["tags.relay.role='location'", 20],
      ["tags.relay.role='gateway'", 20],
    ]);
    const layer = before.find((c) => c.id.startsWith('relay-forwarder-'));
    expect(Object.keys(layer?.content?.modulesContent?.['$edgeAgent'] as Json)).toEqual([
      'properties.desired.modules.relay-forwarder',
    ]);
    // The controller owns the module twins: no layer writes relay-forwarder's desired properties.
    expect(layer?.content?.modulesContent?.['relay-forwarder']).toBeUndefined();

    const second = await world.cli(['deployments']);
    expect(second.code).toBe(0);
    expect(second.stdout.match(/unchanged/g)).toHaveLength(3);
    const after = await ours(world);
    expect(after.map((c) => [c.id, c.etag])).toEqual(before.map((c) => [c.id, c.etag]));

    // A template input changes the forwarder's content: a new version is created, the old one removed.
    const third = await world.cli(['deployments', '--json'], { LOG_LEVEL: 'debug' });
    const replaced = (JSON.parse(third.stdout) as Json).deployments as Json[];
    const forwarder = replaced.find((d) => d.role === 'forwarder') as Json;
    expect(forwarder.outcome).toBe('created');
    expect(forwarder.removed).toEqual([layer?.id]);
    expect((await ours(world)).map((c) => c.id)).toContain(forwarder.id);
    expect((await ours(world)).map((c) => c.id)).not.toContain(layer?.id);
    const back = await world.cli(['deployments', '--json']);
    expect(((JSON.parse(back.stdout) as Json).deployments as Json[]).map((d) => d.outcome)).toEqual([
      'unchanged',
      'created',
      'created',
    ]);
  });

  it('refuses (exit 65) to adopt a deployment with its id but other content; --dry-run writes nothing', async () => {
    const [base] = planDeployments(buildDeploymentContents({ variables: TEMPLATE_VARIABLES }), {
      prefix: 'clash',
    });
    await world.registry.addConfiguration({
      id: base?.id as string,
      schemaVersion: '1.0',
      content: {
        modulesContent: { $edgeAgent: { 'properties.desired': { schemaVersion: '1.1', modules: {} } } },
      },
      targetCondition: "tags.nothing='here'",
      priority: 1,
    });
    const dry = await world.cli(['deployments', '--prefix', 'dry', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run, nothing written');
    expect((await world.registry.getConfigurations()).responseBody.some((c) => c.id.startsWith('dry-'))).toBe(
      false,
    );

    const clash = await world.cli(['deployments', '--prefix', 'clash']);
    expect(clash.code).toBe(65);
    expect(clash.stderr).toContain(`deployment ${base?.id as string} exists with other content`);
  });

  it('runs relay-forwarder on a location, which connects; stops it when the tags no longer match', async () => {
    const run = await world.cli([
      'location',
      'plant-1',
      '--service',
      'hmi=127.0.0.1:9',
      '--trust-bundle',
      world.caFile,
    ]);
    expect(run.code).toBe(0);
    const device = await startSandboxEdgeDevice({
      configTomlPath: join(world.dir, 'config', 'devices', 'plant-1', 'config.toml'),
      hub: world.hub,
      reportDebounceMs: 50,
      stopTimeoutMs: 5_000,
      extraEnv: { LOG_LEVEL: 'warn', REPORTED_DEBOUNCE_MS: '50' },
    });
    devices.push(device);

    const [forwarder] = await device.waitFor(
      (ms) => ms.some((m) => m.name === 'relay-forwarder' && m.runtimeStatus === 'running'),
      'relay-forwarder running',
    );
    expect(forwarder?.pid).toBeGreaterThan(0);
    // The module process connected with the identity the agent made: its twin carries its reported properties.
    const moduleReport = await eventually('relay-forwarder reported properties', async () => {
      const reported = await reportedOf(world, 'plant-1', 'relay-forwarder');
      return reported.module ? reported : undefined;
    });
    expect(moduleReport.module).toMatchObject({ name: 'relay-forwarder' });
    const agentReport = await eventually('$edgeAgent reporting the module', async () => {
      const reported = await reportedOf(world, 'plant-1', '$edgeAgent');
      return reported.modules?.['relay-forwarder']?.runtimeStatus === 'running' ? reported : undefined;
    });
    expect(agentReport.lastDesiredStatus).toEqual({ code: 200, description: '' });

    // The device becomes a gateway: the forwarder layer no longer targets it.
    const pid = forwarder?.pid as number;
    expect((await world.cli(['gateway', 'plant-1'])).code).toBe(0);
    await device.waitFor(
      (ms) => !ms.some((m) => m.name === 'relay-forwarder') && ms.some((m) => m.name === 'relay-gateway'),
      'relay-forwarder removed and relay-gateway added',
    );
    expect(() => process.kill(pid, 0)).toThrow();
    await eventually('$edgeAgent reporting the change', async () => {
      const reported = await reportedOf(world, 'plant-1', '$edgeAgent');
      return reported.modules?.['relay-forwarder'] === undefined && reported.modules?.['relay-gateway']
        ? reported
        : undefined;
    });
  });
});
