import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import {
  commonPlatforms,
  moduleImage,
  parseModuleJson,
  platformKeyFor,
} from '../../../../provisioning/src/deployment/module-metadata';
import { moduleMeta } from './fixtures';

describe('module.json', () => {
  it('parses the IoT Edge tooling format', () => {
    const json = {
      '$schema-version': '0.0.1',
      image: {
        repository: '${CONTAINER_REGISTRY_SERVER}/m',
        tag: { version: '1.2.3', platforms: { amd64: './Dockerfile.amd64' } },
        contextPath: '../..',
      },
      language: 'javascript',
    };
    expect(parseModuleJson('m', json)).toEqual({
      folder: 'm',
      repository: '${CONTAINER_REGISTRY_SERVER}/m',
      version: '1.2.3',
      platforms: { amd64: './Dockerfile.amd64' },
      contextPath: '../..',
      buildOptions: [],
    });
  });

  it('reports every problem of a bad module.json with its path', () => {
    try {
      parseModuleJson('m', { image: { repository: '', tag: { platforms: {} }, buildOptions: [1] } });
      throw new Error('expected a throw');
    } catch (err) {
      expect(isDeploymentError(err, 'DEPLOYMENT_BAD_MODULE_JSON')).toBe(true);
      expect((err as { problems: { path: string }[] }).problems.map((p) => p.path)).toEqual([
        '/image/repository',
        '/image/tag/version',
        '/image/tag/platforms',
        '/image/buildOptions',
      ]);
    }
  });

  it('names images <repository>:<version>-<platform key>', () => {
    expect(moduleImage(moduleMeta('m'), 'arm64v8.debug')).toBe(
      '${CONTAINER_REGISTRY_SERVER}/m:0.1.0-arm64v8.debug',
    );
    expect(platformKeyFor('amd64', undefined)).toBe('amd64');
    expect(platformKeyFor('amd64', 'debug')).toBe('amd64.debug');
    expect(platformKeyFor('amd64', 'arm64v8')).toBe('arm64v8');
  });

  it('lists the release platforms every module declares', () => {
    const amdOnly = { ...moduleMeta('b'), platforms: { amd64: './Dockerfile.amd64' } };
    expect(commonPlatforms([moduleMeta('a'), moduleMeta('b')])).toEqual(['amd64', 'arm64v8']);
    expect(commonPlatforms([moduleMeta('a'), amdOnly])).toEqual(['amd64']);
    expect(commonPlatforms([])).toEqual([]);
  });
});
