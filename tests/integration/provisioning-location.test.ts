// `provision location|gateway` against the sandbox DPS and IoT Hub with the unmodified SDKs, then the device
// booting from the config.toml it wrote (the edge-agent stand-in's DPS registration with the derived key).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { deriveDeviceKey } from '../../provisioning/src/location/device-key';
import { createProvisioningServiceClient } from '../../sandbox/src/dps';
import { startSandboxEdgeDevice, type SandboxEdgeDevice } from '../../sandbox/src/edge-agent';
import { startProvisioningWorld, type ProvisioningWorld } from '../support/provisioning-world';
import { startSandboxIotHub } from '../../sandbox/src/iothub';

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

  it("is idempotent; a changed declaration changes only tags.relay (the controller's tags stay); remove drops it", async () => {
    const argv = ['location', 'depot-9', '--service', 'sql=10.0.0.5:1433', '--service', 'web=10.0.0.6:80'];
    expect((await world.cli(argv)).code).toBe(0);
    await world.registry.updateTwin('depot-9', { tags: { relayStatus: { ports: { sql: 40001 } } } }, '*');

    const again = await world.cli(argv);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('enrollment group relay-fleet: reused');
    expect(again.stdout).toContain('(deviceDataMigrated)');
    expect(again.stdout).toContain('tags.relay: unchanged');

    const changed = await world.cli([
      'location',
      'depot-9',
      '--service',
      'sql=10.0.0.5:1433',
      '--service',
      'ssh=10.0.0.7:22',
      '--json',
    ]);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({
      command: 'location',
      deviceId: 'depot-9',
      tags: 'written',
    });
    const twin = (await world.registry.getTwin('depot-9')).responseBody as unknown as Json;
    expect(twin.tags).toEqual({
      relay: {
        role: 'location',
        location: 'depot-9',
        services: { sql: { target: '10.0.0.5:1433' }, ssh: { target: '10.0.0.7:22' } },
      },
      relayStatus: { ports: { sql: 40001 } },
    });

    const removed = await world.cli(['remove', 'depot-9']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('tags.relay removed');
    const gone = (await world.registry.getTwin('depot-9')).responseBody as unknown as Json;
    expect(gone.tags).toEqual({ relayStatus: { ports: { sql: 40001 } } });
    expect((await world.cli(['remove', 'depot-9'])).stdout).toContain('nothing to do');
    const unknown = await world.cli(['remove', 'no-such-device']);
    expect(unknown.code).toBe(65);
    expect(unknown.stderr).toContain('no such device in IoT Hub');
  });

  it('fixes an existing group the design cannot use, and refuses a disabled one', async () => {
    const service = createProvisioningServiceClient(world.dps.serviceConnectionString, {
      ca: world.hub.caPem,
    });
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'legacy',
      attestation: { type: 'symmetricKey' },
      provisioningStatus: 'enabled',
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    } as never);
    const fixed = await world.cli(['gateway', 'gw-legacy', '--group', 'legacy']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('enrollment group legacy: updated');
    expect(world.dps.enrollmentGroup('legacy')).toMatchObject({
      capabilities: { iotEdge: true },
      reprovisionPolicy: { migrateDeviceData: true },
    });

    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'paused',
      attestation: { type: 'symmetricKey' },
      provisioningStatus: 'disabled',
    } as never);
    const refused = await world.cli(['gateway', 'gw-paused', '--group', 'paused']);
    expect(refused.code).toBe(65);
    expect(refused.stderr).toContain('enrollment group paused is disabled');
  });

  it('exits 77 when DPS refuses the service key, 65 when DPS assigns another hub; never prints a key', async () => {
    const wrongKey = world.dps.serviceConnectionString.replace(
      /SharedAccessKey=[^;]+/,
      'SharedAccessKey=d3Jvbmc=',
    );
    const refused = await world.cli(['gateway', 'gw-2'], { DPS_SERVICE_CONNECTION_STRING: wrongKey });
    expect(refused.code).toBe(77);
    expect(refused.stderr).toMatch(
      /^provision: read enrollment group relay-fleet: UnauthorizedError \(HTTP 401\)/,
    );
    expect(refused.stderr).not.toContain('d3Jvbmc=');

    // A second, reachable hub (the credential check before DPS passes there) that DPS does not assign to.
    const other = await startSandboxIotHub({ pki: world.pki });
    try {
      const mismatch = await world.cli(['gateway', 'gw-3'], {
        IOTHUB_CONNECTION_STRING: other.ownerConnectionString,
      });
      expect(mismatch.code).toBe(65);
      expect(mismatch.stderr).toContain(
        `DPS assigned gw-3 to "${world.hub.hostName}", but the IoT Hub connection string is for "${other.hostName}"`,
      );
    } finally {
      await other.stop();
    }
  });
});
