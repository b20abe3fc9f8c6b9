import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisionCli } from '../../../../provisioning/src/cli/run';

// An empty working folder: no developer's .env leaks into the template variables.
const cwd = mkdtempSync(join(tmpdir(), 'hrf-provision-cli-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runProvisionCli(argv, {
    env,
    cwd,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

describe('runProvisionCli before any service is called', () => {
  it('prints usage: exit 0 for --help, 64 with no command', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, stderr: '' });
    const none = await run([]);
    expect(none.code).toBe(64);
    expect(none.stdout).toContain('Usage:');
  });

  it('exits 64 naming the bad input', async () => {
    const bad = await run(['location', 'a', '--service', 'sql']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--service "sql" must be name=host:port');
    const missing = await run(['location', 'a', '--service', 'sql=h:1']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('missing --dps-connection-string');
  });

  it('exits 64 for a global endpoint that is not an https URL', async () => {
    const env = {
      DPS_SERVICE_CONNECTION_STRING: 'HostName=d;SharedAccessKeyName=p;SharedAccessKey=a2V5',
      IOTHUB_CONNECTION_STRING: 'HostName=h;SharedAccessKeyName=p;SharedAccessKey=a2V5',
      DPS_ID_SCOPE: '0ne1',
      DPS_GLOBAL_ENDPOINT: 'mqtts://global.azure-devices-provisioning.net',
    };
    const r = await run(['gateway', 'gw'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('must be an https:// URL');
  });

  it('exits 64 for an unknown --platform of deployments, before IoT Hub is called', async () => {
    const r = await run(['deployments', '--platform', 'sparc'], {
      IOTHUB_CONNECTION_STRING: 'HostName=h.invalid;SharedAccessKeyName=p;SharedAccessKey=a2V5',
    });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--platform sparc: not one of amd64, arm64v8');
  });

  it('exits 65 with every problem when a template variable is missing', async () => {
    const r = await run(['deployments'], {
      IOTHUB_CONNECTION_STRING: 'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=a2V5',
    });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/CONTAINER_REGISTRY_SERVER/);
  });
});
