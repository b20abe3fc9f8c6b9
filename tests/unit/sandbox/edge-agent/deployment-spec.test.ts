import { imageRepositoryName, parseAgentDesired } from '../../../../sandbox/src/edge-agent/deployment-spec';

const forwarder = {
  version: '1.0',
  type: 'docker',
  status: 'running',
  restartPolicy: 'on-failure',
  startupOrder: 1,
  env: { LOG_LEVEL: { value: 'info' }, HEALTH_PORT: { value: 8081 } },
  settings: { image: 'sandbox.azurecr.io/relay-forwarder:0.1.0-amd64', createOptions: '{"HostConfig":{}}' },
};

function parse(modules: Record<string, unknown>, schemaVersion: unknown = '1.1') {
  return parseAgentDesired({ schemaVersion, runtime: {}, systemModules: {}, modules });
}

describe('parseAgentDesired', () => {
  it('reads each module: which of ours the image is, status, restart policy, order, env as strings', () => {
    const spec = parse({
      'relay-forwarder': forwarder,
      other: { settings: { image: 'mcr.microsoft.com/x/y:1' } },
    });
    if (!spec.ok) throw new Error(spec.problem);
    expect(spec.modules.get('relay-forwarder')).toMatchObject({
      name: 'relay-forwarder',
      runs: 'relay-forwarder',
      status: 'running',
      restartPolicy: 'on-failure',
      startupOrder: 1,
      version: '1.0',
      env: { LOG_LEVEL: 'info', HEALTH_PORT: '8081' },
    });
    // IoT Edge defaults: running, restart always, started last.
    expect(spec.modules.get('other')).toMatchObject({
      runs: undefined,
      status: 'running',
      restartPolicy: 'always',
      startupOrder: 4294967295,
      env: {},
    });
  });

  it('fingerprints what recreates a container (settings, env, version), not status or restart policy', () => {
    const fingerprint = (entry: object) => {
      const spec = parse({ m: entry });
      if (!spec.ok) throw new Error(spec.problem);
      return spec.modules.get('m')?.fingerprint;
    };
    const base = fingerprint(forwarder);
    expect(fingerprint({ ...forwarder, status: 'stopped', restartPolicy: 'always', startupOrder: 9 })).toBe(
      base,
    );
    expect(fingerprint({ ...forwarder, env: { LOG_LEVEL: { value: 'debug' } } })).not.toBe(base);
    expect(fingerprint({ ...forwarder, version: '1.1' })).not.toBe(base);
    expect(fingerprint({ ...forwarder, settings: { ...forwarder.settings, createOptions: '{}' } })).not.toBe(
      base,
    );
  });

  it.each([
    [parse({}, '2.0'), /schemaVersion "2.0" is not supported/],
    [parseAgentDesired({ modules: {} }), /schemaVersion undefined/],
    [parseAgentDesired({ schemaVersion: '1.1', modules: [] }), /modules must be an object/],
    [parse({ m: { settings: {} } }), /modules\.m: settings\.image is required/],
    [parse({ m: { ...forwarder, status: 'paused' } }), /status must be/],
    [parse({ m: { ...forwarder, restartPolicy: 'sometimes' } }), /restartPolicy must be one of/],
    [parse({ m: { ...forwarder, env: { A: 'x' } } }), /env\.A must be/],
    [parse({ m: { ...forwarder, startupOrder: -1 } }), /startupOrder/],
  ])('refuses a document that breaks the schema (%#)', (result, message) => {
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(message);
  });

  it('takes the repository name from any image reference', () => {
    expect(imageRepositoryName('relay-gateway')).toBe('relay-gateway');
    expect(imageRepositoryName('reg.io:5000/team/relay-gateway:0.1.0-arm64v8')).toBe('relay-gateway');
    expect(imageRepositoryName('reg.io/relay-forwarder@sha256:abc')).toBe('relay-forwarder');
  });
});
