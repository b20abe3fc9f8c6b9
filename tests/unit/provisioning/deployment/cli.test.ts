import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main, outputFileName } from '../../../../provisioning/src/deployment/cli';
import { validateManifest } from '../../../../provisioning/src/deployment/validate';
import { VARIABLES } from './fixtures';

const ROOT = path.resolve(__dirname, '../../../..');

describe('deployment:gen CLI', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deployment-gen-'));
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names outputs after their template and platform', () => {
    expect(outputFileName('deployment.template.json', 'amd64')).toBe('deployment.amd64.json');
    expect(outputFileName('/x/deployment.gateway.template.json', 'arm64v8')).toBe(
      'deployment.gateway.arm64v8.json',
    );
  });

  it('writes every template for every platform from an env file, printing no secret', () => {
    const envFile = path.join(dir, 'test.env');
    writeFileSync(
      envFile,
      Object.entries(VARIABLES)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    expect(main(['--dotenv', envFile, '--out-dir', dir], {}, ROOT)).toBe(0);
    for (const name of [
      'deployment.amd64.json',
      'deployment.arm64v8.json',
      'deployment.gateway.amd64.json',
      'deployment.gateway.arm64v8.json',
    ]) {
      const file = path.join(dir, name);
      expect(existsSync(file)).toBe(true);
      expect(validateManifest(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
    }
    expect(out.join('')).toContain('relay-forwarder ← fleetacr.azurecr.io/relay-forwarder:0.1.0-amd64');
    expect(out.join('')).not.toContain(VARIABLES['CONTAINER_REGISTRY_PASSWORD']);
  });

  it('exits 65 naming the missing variable, writing nothing for it', () => {
    const env = { ...VARIABLES, CONTAINER_REGISTRY_PASSWORD: undefined };
    const code = main(
      ['--dotenv', path.join(dir, 'absent.env'), '--out-dir', dir, '--platform', 'amd64'],
      env,
      ROOT,
    );
    expect(code).toBe(65);
    expect(err.join('')).toContain('missing variable CONTAINER_REGISTRY_PASSWORD');
    expect(err.join('')).toContain(
      '/modulesContent/$edgeAgent/properties.desired/runtime/settings/registryCredentials/fleetRegistry/password',
    );
    expect(existsSync(path.join(dir, 'deployment.amd64.json'))).toBe(false);
  });

  it('takes an empty registry password (a public registry): no registryCredentials, a valid manifest', () => {
    const env = { ...VARIABLES, CONTAINER_REGISTRY_PASSWORD: '' };
    const code = main(
      ['--dotenv', path.join(dir, 'absent.env'), '--out-dir', dir, '--platform', 'amd64'],
      env,
      ROOT,
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'deployment.amd64.json'), 'utf8'));
    const runtime = manifest.modulesContent.$edgeAgent['properties.desired'].runtime;
    expect(runtime.settings).not.toHaveProperty('registryCredentials');
    expect(validateManifest(manifest)).toEqual([]);
  });

  it('answers --help (0), an unknown flag and an unknown --platform with the usage (64), writing nothing', () => {
    expect(main(['--help'], {}, ROOT)).toBe(0);
    expect(out.join('')).toContain('Usage: npm run deployment:gen');
    expect(main(['--bogus'], {}, ROOT)).toBe(64);
    expect(err.join('')).toContain('deployment:gen: unknown option --bogus');
    err.length = 0;
    expect(main(['--platform', 'sparc', '--out-dir', dir], VARIABLES, ROOT)).toBe(64);
    expect(err.join('')).toMatch(/--platform sparc: not one of amd64, arm64v8/);
    expect(existsSync(path.join(dir, 'deployment.sparc.json'))).toBe(false);
  });
});
