// `provision location|gateway` against the sandbox DPS and IoT Hub with the unmodified SDKs, then the device
// booting from the config.toml it wrote (the edge-agent stand-in's DPS registration with the derived key).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { deriveDeviceKey } from '../../provisioning/src/location/device-key';
import { startSandboxEdgeDevice, type SandboxEdgeDevice } from '../../sandbox/src/edge-agent';
import { startProvisioningWorld, type ProvisioningWorld } from '../support/provisioning-world';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('provision location: DPS enrollment, registration, tags and config.toml', () => {
  let world: ProvisioningWorld;
  const devices: SandboxEdgeDevice[] = [];

  beforeAll(async () => {
    world = await startProvisioningWorld();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await world?.close();
  });

  it('onboards a location: the device registers with its derived key and lands in the hub with the location tags', async () => {
    const run = await world.cli([
      'location',
      'Site-A',
      '--location',
      'site-a',
      '--service',
      'sql=10.0.0.5:1433',
      '--service',
      'web=intranet.local:443',
      '--trust-bundle',
      world.caFile,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('enrollment group relay-fleet: created');
    expect(run.stdout).toContain('tags.relay: written');

    const group = world.dps.enrollmentGroup('relay-fleet');
    expect(group).toMatchObject({ capabilities: { iotEdge: true }, provisioningStatus: 'enabled' });
    const key = world.dps.deviceKey('relay-fleet', 'Site-A');
    // The key is in config.toml and nowhere in the output.
    expect(run.stdout).not.toContain(key);

    const file = join(world.dir, 'config', 'devices', 'Site-A', 'config.toml');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const toml = parse(await readFile(file, 'utf8')) as Json;
    expect(toml.provisioning).toEqual({
      source: 'dps',
      global_endpoint: `https://${world.dps.hostName}/`,
      id_scope: world.dps.idScope,
      attestation: { method: 'symmetric_key', registration_id: 'Site-A', symmetric_key: { value: key } },
    });
    expect(toml.trust_bundle_cert).toBe(`file://${world.caFile}`);

    const twin = (await world.registry.getTwin('Site-A')).responseBody as unknown as Json;
    expect(twin.tags.relay).toEqual({
      role: 'location',
      location: 'site-a',
      services: { sql: { target: '10.0.0.5:1433' }, web: { target: 'intranet.local:443' } },
    });
    expect(twin.capabilities).toEqual({ iotEdge: true });

    // The device boots from config.toml: DPS registration with the derived key, same device, tags kept.
    const device = await startSandboxEdgeDevice({
      configTomlPath: file,
      hub: world.hub,
      reportDebounceMs: 50,
    });
    devices.push(device);
    expect(device).toMatchObject({
      deviceId: 'Site-A',
      assignedHub: world.hub.hostName,
      substatus: 'deviceDataMigrated',
    });
    const after = (await world.registry.getTwin('Site-A')).responseBody as unknown as Json;
    expect(after.tags.relay).toEqual(twin.tags.relay);
    expect(world.dps.registrations().find((r) => r.registrationId === 'Site-A')).toMatchObject({
      status: 'assigned',
    });
    expect(deriveDeviceKey(group.attestation.symmetricKey.primaryKey, 'Site-A')).toBe(key);
  });
});
