import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import { generateManifest } from '../../../../provisioning/src/deployment/generate';
import { at, manifest, MODULES, template, VARIABLES, withChange } from './fixtures';

const AGENT = '/modulesContent/$edgeAgent/properties.desired';
const options = (platform = 'amd64', variables: Record<string, string | undefined> = VARIABLES) => ({
  platform,
  modules: MODULES,
  variables,
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('generateManifest', () => {
  it('expands placeholders, stringifies createOptions and drops template-only keys', () => {
    const input = template();
    const before = JSON.stringify(input);
    expect(generateManifest(input, options())).toEqual(manifest());
    expect(JSON.stringify(input)).toBe(before);
  });

  it('selects images for the requested platform', () => {
    const image = (platform: string) =>
      at<string>(
        generateManifest(template(), options(platform)),
        `${AGENT}/modules/relay-forwarder/settings/image`,
      );
    expect(image('amd64')).toBe('fleetacr.azurecr.io/relay-forwarder:0.1.0-amd64');
    expect(image('arm64v8')).toBe('fleetacr.azurecr.io/relay-forwarder:0.1.0-arm64v8');
    expect(
      isDeploymentError(
        thrown(() => image('arm32v7')),
        'DEPLOYMENT_UNKNOWN_PLATFORM',
      ),
    ).toBe(true);
  });

  it('cuts long createOptions into 512-character chunks that join back to the same object', () => {
    const labels = { 'com.example.note': 'n'.repeat(1200) };
    const input = withChange(template(), `${AGENT}/modules/relay-forwarder/settings/createOptions`, {
      Labels: labels,
    });
    const settings = at<Record<string, string>>(
      generateManifest(input, options()),
      `${AGENT}/modules/relay-forwarder/settings`,
    );
    expect(Object.keys(settings)).toEqual(['image', 'createOptions', 'createOptions01', 'createOptions02']);
    expect([settings['createOptions'], settings['createOptions01']].map((c) => c?.length)).toEqual([
      512, 512,
    ]);
    expect(
      JSON.parse(`${settings['createOptions']}${settings['createOptions01']}${settings['createOptions02']}`),
    ).toEqual({ Labels: labels });
  });

  it('names the missing variable instead of writing an empty string', () => {
    const err = thrown(() =>
      generateManifest(
        template(),
        options('amd64', { ...VARIABLES, CONTAINER_REGISTRY_PASSWORD: undefined }),
      ),
    );
    expect(isDeploymentError(err, 'DEPLOYMENT_MISSING_VARIABLE')).toBe(true);
    expect((err as Error).message).toContain('CONTAINER_REGISTRY_PASSWORD');
    expect((err as { problems: unknown }).problems).toEqual([
      {
        path: `${AGENT}/runtime/settings/registryCredentials/fleet/password`,
        message: 'variable CONTAINER_REGISTRY_PASSWORD is not set',
      },
    ]);
  });

  it('fails a bad template with the path of every problem', () => {
    const input = template();
    withChange(input, `${AGENT}/schemaVersion`, '1.5');
    withChange(input, `${AGENT}/modules/relay-forwarder/restartPolicy`, 'unless-stopped');
    withChange(
      input,
      '/modulesContent/$edgeHub/properties.desired/routes/forwarderToUpstream/route',
      'FROM /messages/* TO $upstream',
    );
    const err = thrown(() => generateManifest(input, options()));
    expect(isDeploymentError(err, 'DEPLOYMENT_INVALID_MANIFEST')).toBe(true);
    if (!isDeploymentError(err)) return;
    expect(err.problems.map((p) => p.path)).toEqual([
      `${AGENT}/schemaVersion`,
      `${AGENT}/modules/relay-forwarder/restartPolicy`,
      '/modulesContent/$edgeHub/properties.desired/routes/forwarderToUpstream/route',
    ]);
    expect(err.message).toContain('breaks 3 IoT Edge rules');
    for (const p of err.problems) expect(err.message).toContain(p.path);
  });

  it('refuses a template that is not an object', () => {
    expect(
      isDeploymentError(
        thrown(() => generateManifest([], options())),
        'DEPLOYMENT_BAD_TEMPLATE',
      ),
    ).toBe(true);
  });
});
