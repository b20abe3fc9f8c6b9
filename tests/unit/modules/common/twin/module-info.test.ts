import { join } from 'node:path';
import { readModuleVersion } from '../../../../../modules/common/src/twin/module-info';

const ROOT = join(__dirname, '../../../../..');

describe('readModuleVersion', () => {
  it("finds the module's own package.json above its source", () => {
    const version = readModuleVersion('relay-gateway', join(ROOT, 'modules/relay-gateway/src'));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(readModuleVersion('relay-forwarder', join(ROOT, 'modules/relay-forwarder/src/runtime'))).toBe(
      readModuleVersion('relay-forwarder', join(ROOT, 'modules/relay-forwarder')),
    );
  });

  it('is unknown when no package.json of that name is found', () => {
    expect(readModuleVersion('no-such-module', join(ROOT, 'modules/relay-gateway/src'))).toBe('unknown');
  });
});
