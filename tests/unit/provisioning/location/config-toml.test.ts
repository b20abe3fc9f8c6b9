import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import {
  EDGE_AGENT_IMAGE,
  parseEdgeConfigToml,
  renderEdgeConfigToml,
  writeEdgeConfigToml,
  type EdgeDpsConfig,
} from '../../../../provisioning/src/location/config-toml';

const CONFIG: EdgeDpsConfig = {
  globalEndpoint: 'https://global.azure-devices-provisioning.net',
  idScope: '0ne00ABCDEF',
  registrationId: 'site-a',
  symmetricKey: 'v5ECkkYM2AWDo1Rtid3Z6sRpeeBJtlyYoP4EakxbIDQ=',
};

describe('IoT Edge config.toml', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hrf-config-toml-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('renders the DPS symmetric-key provisioning section IoT Edge 1.4/1.5 reads', () => {
    const doc = parse(renderEdgeConfigToml(CONFIG));
    expect(doc).toEqual({
      provisioning: {
        source: 'dps',
        global_endpoint: 'https://global.azure-devices-provisioning.net',
        id_scope: '0ne00ABCDEF',
        attestation: {
          method: 'symmetric_key',
          registration_id: 'site-a',
          symmetric_key: { value: CONFIG.symmetricKey },
        },
      },
      agent: { name: 'edgeAgent', type: 'docker', config: { image: EDGE_AGENT_IMAGE } },
    });
  });

  it('adds trust_bundle_cert as a file URI when a CA is given, and reads everything back', async () => {
    const text = renderEdgeConfigToml({ ...CONFIG, trustBundleFile: '/etc/aziot/sandbox ca.pem' });
    expect(parse(text).trust_bundle_cert).toBe('file:///etc/aziot/sandbox%20ca.pem');
    expect(await parseEdgeConfigToml(text)).toEqual({
      ...CONFIG,
      trustBundleFile: '/etc/aziot/sandbox ca.pem',
    });
  });

  it('reads the key inline as a table, as a bare string, or from a file URI (raw bytes)', async () => {
    const head = `[provisioning]\nsource = "dps"\nglobal_endpoint = "https://localhost:1/"\nid_scope = "0ne1"\n[provisioning.attestation]\nmethod = "symmetric_key"\nregistration_id = "d"\n`;
    expect((await parseEdgeConfigToml(`${head}symmetric_key = { value = "a2V5" }\n`)).symmetricKey).toBe(
      'a2V5',
    );
    expect((await parseEdgeConfigToml(`${head}symmetric_key = "a2V5"\n`)).symmetricKey).toBe('a2V5');
    const keyFile = join(dir, 'device.key');
    await writeFile(keyFile, Buffer.from([1, 2, 3, 250]));
    const fromFile = await parseEdgeConfigToml(`${head}symmetric_key = { uri = "file://${keyFile}" }\n`);
    expect(fromFile.symmetricKey).toBe(Buffer.from([1, 2, 3, 250]).toString('base64'));
  });

  it.each([
    ['not toml', 'x = = 1', /not valid TOML/],
    ['manual provisioning', '[provisioning]\nsource = "manual"\n', /source must be "dps"/],
    [
      'x509',
      '[provisioning]\nsource = "dps"\n[provisioning.attestation]\nmethod = "x509"\n',
      /method must be "symmetric_key"/,
    ],
    [
      'no key',
      '[provisioning]\nsource = "dps"\nglobal_endpoint = "https://x/"\nid_scope = "s"\n[provisioning.attestation]\nmethod = "symmetric_key"\nregistration_id = "d"\n',
      /symmetric_key is missing/,
    ],
    [
      'no scope',
      '[provisioning]\nsource = "dps"\nglobal_endpoint = "https://x/"\n[provisioning.attestation]\nmethod = "symmetric_key"\nregistration_id = "d"\nsymmetric_key = "k"\n',
      /id_scope must be a non-empty string/,
    ],
  ])('refuses %s with the reason', async (_name, text, message) => {
    await expect(parseEdgeConfigToml(text, 'c.toml')).rejects.toThrow(message);
  });

  it('writes the file with mode 0600, replacing an older file with looser permissions, leaving no temp file', async () => {
    const file = join(dir, 'device', 'config.toml');
    await writeEdgeConfigToml(file, CONFIG);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'device'))).mode & 0o777).toBe(0o700);
    await chmod(file, 0o644);
    await writeEdgeConfigToml(file, { ...CONFIG, registrationId: 'site-b' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain('registration_id = "site-b"');
    expect(await readdir(join(dir, 'device'))).toEqual(['config.toml']);
  });

  it('reports a folder it cannot create as PROVISION_WRITE_FAILED', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, '');
    await expect(writeEdgeConfigToml(join(blocker, 'config.toml'), CONFIG)).rejects.toMatchObject({
      code: 'PROVISION_WRITE_FAILED',
    });
  });
});
