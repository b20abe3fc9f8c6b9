import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import { moduleImageResolver } from '../../../../provisioning/src/deployment/module-metadata';
import { expandPlaceholders, expandString } from '../../../../provisioning/src/deployment/placeholders';
import { MODULES, VARIABLES } from './fixtures';

const sources = (platform = 'amd64', variables: Record<string, string | undefined> = VARIABLES) => ({
  variables,
  resolveModuleImage: moduleImageResolver(MODULES, platform),
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('expandPlaceholders', () => {
  it('expands ${NAME} in values and keys, deep, without touching the input', () => {
    const doc = {
      a: ['x-${LOG_LEVEL}-y', { '${CONTAINER_REGISTRY_USERNAME}': '$upstream' }],
      n: 3,
      b: true,
      z: null,
    };
    const out = expandPlaceholders(doc, sources());
    expect(out).toEqual({ a: ['x-info-y', { fleetacr: '$upstream' }], n: 3, b: true, z: null });
    expect(doc.a[0]).toBe('x-${LOG_LEVEL}-y');
  });

  it('expands ${MODULES.<folder>} to <registry>/<folder>:<version>-<platform>, variables in the repository included', () => {
    expect(expandString('${MODULES.relay-forwarder}', sources())).toBe(
      'fleetacr.azurecr.io/relay-forwarder:0.1.0-amd64',
    );
    expect(expandString('${MODULES.relay-gateway}', sources('arm64v8'))).toBe(
      'fleetacr.azurecr.io/relay-gateway:0.1.0-arm64v8',
    );
  });

  it('expands the .debug form to the debug variant of the platform being generated', () => {
    expect(expandString('${MODULES.relay-forwarder.debug}', sources())).toBe(
      'fleetacr.azurecr.io/relay-forwarder:0.1.0-amd64.debug',
    );
    expect(expandString('${MODULES.relay-forwarder.debug}', sources('arm64v8'))).toBe(
      'fleetacr.azurecr.io/relay-forwarder:0.1.0-arm64v8.debug',
    );
  });

  it('accepts an explicit platform key', () => {
    expect(expandString('${MODULES.relay-forwarder.arm64v8}', sources('amd64'))).toBe(
      'fleetacr.azurecr.io/relay-forwarder:0.1.0-arm64v8',
    );
  });

  it('treats an empty value as a value: NAME= is deliberate', () => {
    expect(expandString('[${APPLICATIONINSIGHTS_CONNECTION_STRING}]', sources())).toBe('[]');
  });

  it('names every missing variable, with every place it is used, and never substitutes an empty string', () => {
    const vars = { ...VARIABLES, CONTAINER_REGISTRY_SERVER: undefined, LOG_LEVEL: undefined };
    const err = thrown(() =>
      expandPlaceholders(
        { env: { value: '${LOG_LEVEL}' }, image: '${MODULES.relay-forwarder}', other: '${LOG_LEVEL}' },
        sources('amd64', vars),
      ),
    );
    expect(isDeploymentError(err, 'DEPLOYMENT_MISSING_VARIABLE')).toBe(true);
    if (!isDeploymentError(err)) return;
    expect(err.message).toBe(
      'missing variables CONTAINER_REGISTRY_SERVER, LOG_LEVEL: set them in the environment or in .env',
    );
    expect(err.retryable).toBe(false);
    expect(err.problems).toEqual([
      { path: '/env/value', message: 'variable LOG_LEVEL is not set' },
      { path: '/image', message: 'variable CONTAINER_REGISTRY_SERVER is not set' },
      { path: '/other', message: 'variable LOG_LEVEL is not set' },
    ]);
  });

  it('rejects an unknown module folder and a platform the module.json lacks', () => {
    const unknown = thrown(() => expandString('${MODULES.relay-nope}', sources()));
    expect(isDeploymentError(unknown, 'DEPLOYMENT_UNKNOWN_MODULE')).toBe(true);
    const platform = thrown(() => expandString('${MODULES.relay-forwarder}', sources('arm32v7')));
    expect(isDeploymentError(platform, 'DEPLOYMENT_UNKNOWN_PLATFORM')).toBe(true);
    expect((platform as Error).message).toContain('no platform "arm32v7"');
  });

  it('rejects malformed and unterminated placeholders', () => {
    expect(
      isDeploymentError(
        thrown(() => expandString('${lower-case}', sources())),
        'DEPLOYMENT_BAD_PLACEHOLDER',
      ),
    ).toBe(true);
    expect(
      isDeploymentError(
        thrown(() => expandString('a ${LOG_LEVEL', sources())),
        'DEPLOYMENT_BAD_PLACEHOLDER',
      ),
    ).toBe(true);
  });

  it('reports keys that collide after expansion', () => {
    const err = thrown(() => expandPlaceholders({ info: 1, '${LOG_LEVEL}': 2 }, sources()));
    expect(isDeploymentError(err, 'DEPLOYMENT_BAD_TEMPLATE')).toBe(true);
  });
});
