// The whole fleet in the sandbox (`npm start`): a new location boots from nothing — onboarded by the provisioning
// functions, registered through DPS with its derived key, given relay-forwarder by the automatic deployment and its
// hybrid connection, ports and twins by the controller — to reachable through the gateway; nobody writes a twin.
// Then the processes a user runs: `npm start -- --check`, and `npm start` + `npm run sandbox:add-location` + Ctrl-C.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveDeviceKey, parseEdgeConfigToml } from '../../provisioning/src';
import { onPath } from '../../sandbox/src/demo/print';
import { startFleet, type Fleet } from '../../sandbox/src/fleet/world';
import { runCommand } from '../support/command-run';
import { httpGetLoopback } from '../support/loopback-http';
import { echoThrough } from '../support/echo-client';
import { sha256 } from '../support/tunnel-harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Live processes whose environment names `dir` (every module process of a fleet gets its CA file from there). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe('the sandbox fleet: a new location provisions itself', () => {
  let stateDir: string;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-fleet-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('boots from nothing through DPS with its derived key to reachable through the gateway (sha256), no twin written by hand', async () => {
    // Only the gateway device at first: the location below is new to the controller, DPS and the hub.
    fleet = await startFleet({ stateDir, locations: [] });
    const { registry, provisioningService } = fleet.infra;
    expect(fleet.locations()).toEqual([]);
    await expect(registry.getTwin('tromso')).rejects.toThrow();

    const started = Date.now();
    const location = await fleet.addLocation('tromso');
    const totalMs = Date.now() - started;
    console.log(
      `tromso: provisioning ${location.timings.provisionMs} ms, then boot → reachable ${location.timings.reachableMs} ms ` +
        `(DPS registration ${location.timings.dpsMs} ms, relay-forwarder started at ${location.timings.forwarderStartedMs} ms); ` +
        `whole add ${totalMs} ms`,
    );

    // The device registered itself through DPS with the key derived from the group key, from its config.toml.
    const config = await parseEdgeConfigToml(
      await readFile(join(stateDir, 'fleet', 'devices', 'tromso', 'config.toml'), 'utf8'),
    );
    const group = (await provisioningService.getEnrollmentGroup('relay-fleet')).responseBody as Json;
    expect(config.registrationId).toBe('tromso');
    expect(config.symmetricKey).toBe(
      deriveDeviceKey(group.attestation.symmetricKey.primaryKey as string, 'tromso'),
    );
    expect(config.symmetricKey).not.toBe(group.attestation.symmetricKey.primaryKey);
    // Its own registration at boot kept the twin the provisioning step had tagged.
    expect(location.dpsSubstatus).toBe('deviceDataMigrated');

    // The tags say what the location exposes (provisioning); the status tag and the module twins are the controller's.
    const twin = (await registry.getTwin('tromso')).responseBody as unknown as Json;
    expect(twin.tags.relay).toMatchObject({
      role: 'location',
      location: 'tromso',
      services: { web: { target: expect.any(String) }, echo: { target: expect.any(String) } },
    });
    const ports = Object.fromEntries(location.rows.map((r) => [r.service, r.publicPort]));
    expect(twin.tags.relayStatus).toMatchObject({ location: 'tromso', state: 'ok', ports });
    const forwarder = (await registry.getModuleTwin('tromso', 'relay-forwarder'))
      .responseBody as unknown as Json;
    expect(Object.keys(forwarder.properties.desired.hybridConnections)).toEqual(['hrf-tromso']);
    const gateway = (await registry.getModuleTwin('gateway-1', 'relay-gateway'))
      .responseBody as unknown as Json;
    expect(gateway.properties.desired.routes).toMatchObject({
      tromso_web: { port: ports.web, hybridConnection: 'hrf-tromso', service: 'web' },
      tromso_echo: { port: ports.echo, hybridConnection: 'hrf-tromso', service: 'echo' },
    });
    // The forwarder came from the automatic deployment, run by the device's edge agent.
    const agent = (await registry.getModuleTwin('tromso', '$edgeAgent')).responseBody as unknown as Json;
    expect(agent.properties.desired.modules['relay-forwarder'].settings.image).toMatch(/relay-forwarder/);

    // Through the gateway's public ports: 1 MiB through the echo, verified by SHA-256, and the page naming it.
    const payload = randomBytes(1024 * 1024);
    const echoed = await echoThrough(ports.echo!, payload);
    expect({ length: echoed.length, sha256: sha256(echoed) }).toEqual({
      length: payload.length,
      sha256: sha256(payload),
    });
    const page = await httpGetLoopback(ports.web!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Hello from tromso / web</h1>');

    const devices = [...processesUsing(stateDir)];
    expect(devices.length).toBeGreaterThanOrEqual(2); // relay-gateway and relay-forwarder
    await fleet.stop();
    expect(processesUsing(stateDir)).toEqual([]);
  }, 120_000);
});

describe('npm start (the whole fleet) as a process', () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-fleet-main-'));
    env = { ...process.env, SANDBOX_STATE_DIR: stateDir, LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('`npm start -- --check` boots three locations, verifies them, adds a fourth, verifies it and exits 0', async () => {
    const fleet = runCommand('npm', ['start', '--silent', '--', '--check'], env);
    const { code, signal } = await fleet.exited;
    const out = fleet.output();
    expect({ code, signal, out }).toMatchObject({ code: 0, signal: null });
    for (const location of ['berlin', 'oslo', 'lyon', 'paris']) {
      expect(out).toMatch(
        new RegExp(
          `^ {2}${location} +web +127\\.0\\.0\\.1:\\d+ +127\\.0\\.0\\.1:\\d+ \\(HTTP\\) +reachable$`,
          'm',
        ),
      );
      expect(out).toMatch(
        new RegExp(
          `^ {2}${location} +echo +127\\.0\\.0\\.1:\\d+ +127\\.0\\.0\\.1:\\d+ \\(TCP echo\\) +reachable$`,
          'm',
        ),
      );
      expect(out).toMatch(new RegExp(`ok {4}${location} / web +GET / → 200 "Hello from ${location} / web"`));
      expect(out).toMatch(
        new RegExp(`ok {4}${location} / echo +echoed 65536 random bytes, sha256 \\w+… matches`),
      );
      expect(out).toMatch(new RegExp(`^ {2}${location} +\\d+\\.\\d s {2}\\(DPS registration`, 'm'));
    }
    expect(out).toMatch(/^ {2}curl http:\/\/127\.0\.0\.1:\d+\/ +# berlin \/ web$/m);
    // Not a terminal: every boot step is a plain line when it starts and when it is done.
    expect(out).toMatch(/^ {2}… sandbox Relay, Relay ARM, IoT Hub and DPS$/m);
    expect(out).toMatch(/^ {2}✓ sandbox Relay, Relay ARM, IoT Hub and DPS \(\d+\.\d s\)$/m);
    expect(out).toMatch(/^ {2}✓ automatic deployments \(\d+\.\d s\): /m);
    expect(out).toMatch(/^ {2}✓ gateway device \S+: provisioned, booted through DPS, relay-gateway started/m);
    for (const location of ['berlin', 'oslo', 'lyon'])
      expect(out).toMatch(
        new RegExp(`^ {2}✓ location ${location}: .* reachable through the gateway \\(`, 'm'),
      );
    expect(out).toContain('Check passed: 6 of 6 services answered through the gateway.');
    expect(out).toContain('Check passed: 2 of 2 services answered through the gateway.');
    expect(out).toMatch(/Stopped\.\n$/);
    expect(out).not.toMatch(/SharedAccessKey=|SharedAccessSignature|sig=/);
    await expect(access(join(stateDir, 'fleet', 'admin.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(processesUsing(stateDir)).toEqual([]);
  }, 180_000);

  it('runs until Ctrl-C; sandbox:add-location adds a reachable location; SIGINT stops every process with exit 0', async () => {
    const none = runCommand('npm', ['run', '--silent', 'sandbox:add-location', '--', 'nice'], env);
    expect((await none.exited).code).toBe(69);
    expect(none.output()).toMatch(/no fleet is running/);

    // Its own process group, signalled as a terminal does on Ctrl-C: npm and the fleet both get SIGINT.
    const fleet = runCommand('npm', ['start', '--silent'], env, true);
    try {
      await fleet.waitFor(/Ctrl-C stops everything\./, 110_000);
      expect((await stat(join(stateDir, 'fleet', 'admin.json'))).mode & 0o777).toBe(0o600);

      const add = runCommand('npm', ['run', '--silent', 'sandbox:add-location', '--', 'nice'], env);
      expect(await add.exited).toEqual({ code: 0, signal: null });
      const added = add.output();
      expect(added).toMatch(/Location nice is reachable: boot → reachable \d+\.\d s/);
      expect(added).toMatch(/^ {2}… location nice: provisioned/m);
      expect(added).toMatch(/^ {2}✓ location nice: .* \(\d+\.\d s\)$/m);
      const curl = /^ {2}(curl http:\/\/127\.0\.0\.1:(\d+)\/) +# nice \/ web$/m.exec(added)!;
      expect(curl).not.toBeNull();
      if (onPath('curl')) {
        const got = runCommand('sh', ['-c', curl[1]!], process.env);
        expect(await got.exited).toEqual({ code: 0, signal: null });
        expect(got.output()).toContain('Hello from nice / web');
      } else {
        expect((await httpGetLoopback(Number(curl[2]))).body).toContain('Hello from nice / web');
      }
      const again = runCommand('npm', ['run', '--silent', 'sandbox:add-location', '--', 'nice'], env);
      expect((await again.exited).code).toBe(65);
      expect(again.output()).toContain('location nice exists already');
      await fleet.waitFor(/Added location nice: boot → reachable/, 90_000);

      expect(processesUsing(stateDir).length).toBeGreaterThanOrEqual(5);
      process.kill(-fleet.child.pid!, 'SIGINT');
      expect(await fleet.exited).toEqual({ code: 0, signal: null });
      expect(fleet.output()).toMatch(/SIGINT: stopping[^]*Stopped\.\n$/);
      expect(processesUsing(stateDir)).toEqual([]);
      await expect(httpGetLoopback(Number(curl[2]))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      try {
        process.kill(-fleet.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 240_000);
});
