import { validateManifest, validateModuleEntry } from '../../../../provisioning/src/deployment/validate';
import { at, manifest, withChange } from './fixtures';

const AGENT = '/modulesContent/$edgeAgent/properties.desired';
const HUB = '/modulesContent/$edgeHub/properties.desired';
const FWD = `${AGENT}/modules/relay-forwarder`;

function deep(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) v = { n: v };
  return v;
}

describe('validateManifest', () => {
  it('accepts the valid fixture', () => {
    expect(validateManifest(manifest())).toEqual([]);
  });

  // One fixture per class of mistake: [class, pointer, new value (undefined deletes), expected path, message part].
  it.each([
    ['required field', `${FWD}/status`, undefined, `${FWD}/status`, 'is required'],
    [
      'required section',
      `${HUB}/storeAndForwardConfiguration`,
      undefined,
      `${HUB}/storeAndForwardConfiguration`,
      'is required',
    ],
    ['module type', `${FWD}/type`, 'moby', `${FWD}/type`, 'must be "docker"'],
    [
      'restart policy',
      `${FWD}/restartPolicy`,
      'unless-stopped',
      `${FWD}/restartPolicy`,
      'must be one of "never", "on-failure", "on-unhealthy", "always"',
    ],
    ['module status', `${FWD}/status`, 'paused', `${FWD}/status`, 'must be one of "running", "stopped"'],
    [
      'edgeHub restart policy',
      `${AGENT}/systemModules/edgeHub/restartPolicy`,
      'never',
      `${AGENT}/systemModules/edgeHub/restartPolicy`,
      'must be "always"',
    ],
    [
      'image pull policy',
      `${FWD}/imagePullPolicy`,
      'always',
      `${FWD}/imagePullPolicy`,
      'must be one of "on-create", "never"',
    ],
    [
      'edgeAgent schema version',
      `${AGENT}/schemaVersion`,
      '1.5',
      `${AGENT}/schemaVersion`,
      'must be one of "1.0", "1.1"',
    ],
    [
      'edgeHub schema version',
      `${HUB}/schemaVersion`,
      '1.5',
      `${HUB}/schemaVersion`,
      'must be one of "1.0", "1.1", "1.2"',
    ],
    [
      'route object under schema 1.0',
      `${HUB}/schemaVersion`,
      '1.0',
      `${HUB}/routes/forwarderToUpstream`,
      'must be string',
    ],
    [
      'route syntax',
      `${HUB}/routes/forwarderToUpstream/route`,
      'FROM /messages/* TO $upstream',
      `${HUB}/routes/forwarderToUpstream/route`,
      'route syntax',
    ],
    [
      'route priority',
      `${HUB}/routes/forwarderToUpstream/priority`,
      10,
      `${HUB}/routes/forwarderToUpstream/priority`,
      'must be <= 9',
    ],
    [
      'route to a module not deployed',
      `${HUB}/routes/forwarderToUpstream/route`,
      'FROM /messages/modules/relay-gateway/* INTO $upstream',
      `${HUB}/routes/forwarderToUpstream/route`,
      'does not deploy',
    ],
    [
      'route name',
      `${HUB}/routes/to.upstream`,
      'FROM /* INTO $upstream',
      `${HUB}/routes/to.upstream`,
      'name must match pattern',
    ],
    [
      'createOptions chunk over 512',
      `${FWD}/settings/createOptions`,
      `{"Labels":{"a":"${'x'.repeat(500)}"}}`,
      `${FWD}/settings/createOptions`,
      'must NOT have more than 512 characters',
    ],
    [
      'createOptions chunk gap',
      `${FWD}/settings/createOptions02`,
      '}',
      `${FWD}/settings/createOptions02`,
      'needs createOptions01',
    ],
    [
      'createOptions chunk count',
      `${FWD}/settings/createOptions08`,
      '}',
      `${FWD}/settings/createOptions08`,
      'is not allowed here',
    ],
    [
      'createOptions not JSON',
      `${FWD}/settings/createOptions`,
      '{"HostConfig":',
      `${FWD}/settings/createOptions`,
      'not a JSON object',
    ],
    [
      'image with whitespace',
      `${FWD}/settings/image`,
      'fleetacr.azurecr.io/relay forwarder',
      `${FWD}/settings/image`,
      'must match pattern',
    ],
    [
      'unexpanded placeholder',
      `${FWD}/env/LOG_LEVEL/value`,
      '${LOG_LEVEL}',
      `${FWD}/env/LOG_LEVEL/value`,
      'unexpanded placeholder',
    ],
    [
      'env value type',
      `${FWD}/env/LOG_LEVEL/value`,
      { level: 'info' },
      `${FWD}/env/LOG_LEVEL/value`,
      'must be string,number,boolean',
    ],
    [
      'registry address',
      `${AGENT}/runtime/settings/registryCredentials/fleet/address`,
      'https://fleetacr.azurecr.io',
      `${AGENT}/runtime/settings/registryCredentials/fleet/address`,
      'must match pattern',
    ],
    ['unknown property', `${FWD}/restart`, 'always', `${FWD}/restart`, 'is not allowed here'],
    [
      'desired properties of a module not deployed',
      '/modulesContent/relay-gateway',
      { 'properties.desired': {} },
      '/modulesContent/relay-gateway',
      'does not deploy',
    ],
    [
      'twin key with a dot',
      '/modulesContent/relay-forwarder/properties.desired/a.b',
      1,
      '/modulesContent/relay-forwarder/properties.desired/a.b',
      'name must match pattern',
    ],
    [
      'twin too deep',
      '/modulesContent/relay-forwarder/properties.desired/hybridConnections',
      deep(10),
      '/modulesContent/relay-forwarder/properties.desired',
      'nest 11 levels deep',
    ],
    [
      'twin too large',
      '/modulesContent/relay-forwarder/properties.desired/hybridConnections',
      Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'x'.repeat(4000)])),
      '/modulesContent/relay-forwarder/properties.desired',
      'IoT Hub allows 32768',
    ],
    [
      'twin string too long',
      '/modulesContent/relay-forwarder/properties.desired/logLevel',
      'x'.repeat(4097),
      '/modulesContent/relay-forwarder/properties.desired/logLevel',
      'limited to 4096 bytes',
    ],
    [
      'system module as custom module',
      `${AGENT}/modules/edgeHub`,
      { type: 'docker', status: 'running', restartPolicy: 'always', settings: { image: 'x' } },
      `${AGENT}/modules/edgeHub`,
      'is a system module',
    ],
    ['mqttBroker below 1.2', `${HUB}/mqttBroker`, {}, HUB, 'mqttBroker needs $edgeHub schemaVersion 1.2'],
  ])('catches %s', (_name, pointer, value, path, message) => {
    const doc = withChange(manifest(), pointer, value);
    if (pointer === `${HUB}/mqttBroker`) withChange(doc, `${HUB}/schemaVersion`, '1.1');
    const problems = validateManifest(doc);
    expect(problems).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('catches a module name that breaks the pattern (and what depends on it)', () => {
    const doc = manifest();
    const modules = at<Record<string, unknown>>(doc, `${AGENT}/modules`);
    modules['relay forwarder'] = modules['relay-forwarder'];
    delete modules['relay-forwarder'];
    const problems = validateManifest(doc);
    expect(problems).toContainEqual({
      path: `${AGENT}/modules/relay forwarder`,
      message: expect.stringContaining('name must match pattern'),
    });
    expect(problems).toContainEqual({
      path: `${HUB}/routes/forwarderToUpstream/route`,
      message: expect.stringContaining('does not deploy'),
    });
    expect(problems).toContainEqual({
      path: '/modulesContent/relay-forwarder',
      message: expect.stringContaining('does not deploy'),
    });
  });

  it('reports every problem of a manifest with several mistakes, each with its path', () => {
    const doc = manifest();
    withChange(doc, `${AGENT}/schemaVersion`, '1.5');
    withChange(doc, `${FWD}/restartPolicy`, 'unless-stopped');
    withChange(doc, `${HUB}/routes/forwarderToUpstream/route`, 'nonsense');
    expect(validateManifest(doc).map((p) => p.path)).toEqual([
      `${AGENT}/schemaVersion`,
      `${FWD}/restartPolicy`,
      `${HUB}/routes/forwarderToUpstream/route`,
    ]);
  });

  it('rejects documents that are not manifests at all', () => {
    expect(validateManifest([])).toContainEqual({ path: '', message: 'must be object' });
    expect(validateManifest({})).toContainEqual({ path: '/modulesContent', message: 'is required' });
    expect(validateManifest({ modulesContent: {}, extra: 1 })).toEqual(
      expect.arrayContaining([
        { path: '/extra', message: 'is not allowed here' },
        { path: '/modulesContent/$edgeAgent', message: 'is required' },
        { path: '/modulesContent/$edgeHub', message: 'is required' },
      ]),
    );
  });
});

describe('validateModuleEntry', () => {
  it('checks one $edgeAgent module entry of a layered deployment', () => {
    const entry = at<Record<string, unknown>>(manifest(), FWD);
    expect(validateModuleEntry(entry, '/x')).toEqual([]);
    expect(
      validateModuleEntry(
        { ...entry, restartPolicy: 'no', settings: { image: 'i', createOptions: '{' } },
        '/x',
      ),
    ).toEqual([
      { path: '/x/restartPolicy', message: 'must be one of "never", "on-failure", "on-unhealthy", "always"' },
      {
        path: '/x/settings/createOptions',
        message: 'createOptions (joined with its chunks) is not a JSON object',
      },
    ]);
  });
});
