import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import {
  extractModuleFragment,
  toBaseModulesContent,
  toLayeredModulesContent,
} from '../../../../provisioning/src/deployment/fragments';
import { DeploymentManifest } from '../../../../provisioning/src/deployment/generate';
import { validateManifest, validateModuleEntry } from '../../../../provisioning/src/deployment/validate';
import { manifest, withChange } from './fixtures';

const HUB_ROUTES = '/modulesContent/$edgeHub/properties.desired/routes';

function fixture(): DeploymentManifest {
  const doc = manifest();
  withChange(
    doc,
    `${HUB_ROUTES}/everythingElse`,
    'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream',
  );
  return doc as unknown as DeploymentManifest;
}

describe('module fragments', () => {
  it('cuts out the module entry, the routes naming it and its desired properties', () => {
    const doc = fixture();
    const fragment = extractModuleFragment(doc, 'relay-forwarder');
    const agent = doc.modulesContent['$edgeAgent']?.['properties.desired'] as {
      modules: Record<string, unknown>;
    };
    expect(fragment).toEqual({
      moduleName: 'relay-forwarder',
      edgeAgentModule: agent.modules['relay-forwarder'],
      routes: {
        forwarderToUpstream: {
          route: 'FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream',
          priority: 0,
          timeToLiveSecs: 86400,
        },
      },
      desiredProperties: { schemaVersion: 1, logLevel: 'info', hybridConnections: {} },
    });
    expect(validateModuleEntry(fragment.edgeAgentModule, '/fragment')).toEqual([]);
    // Copies, not views: changing the fragment leaves the manifest alone.
    (fragment.desiredProperties as Record<string, unknown>)['logLevel'] = 'debug';
    expect(
      (doc.modulesContent['relay-forwarder']?.['properties.desired'] as Record<string, unknown>)['logLevel'],
    ).toBe('info');
  });

  it('refuses a module the manifest does not deploy', () => {
    expect(() => extractModuleFragment(fixture(), 'relay-gateway')).toThrow(
      /does not deploy module "relay-gateway"/,
    );
    try {
      extractModuleFragment(fixture(), 'nope');
    } catch (err) {
      expect(isDeploymentError(err, 'DEPLOYMENT_UNKNOWN_MODULE')).toBe(true);
    }
  });

  it('writes a layered deployment with dotted property paths, desired properties only on request', () => {
    const fragment = extractModuleFragment(fixture(), 'relay-forwarder');
    const layered = toLayeredModulesContent([fragment]);
    expect(Object.keys(layered)).toEqual(['$edgeAgent', '$edgeHub']);
    expect(layered['$edgeAgent']).toEqual({
      'properties.desired.modules.relay-forwarder': fragment.edgeAgentModule,
    });
    expect(layered['$edgeHub']).toEqual({
      'properties.desired.routes.forwarderToUpstream': fragment.routes['forwarderToUpstream'],
    });
    const withTwin = toLayeredModulesContent([fragment], { includeDesiredProperties: true });
    expect(withTwin['relay-forwarder']).toEqual({ 'properties.desired': fragment.desiredProperties });
  });

  it('writes a base deployment without custom modules, routes or module twins that still validates', () => {
    const base = toBaseModulesContent(fixture());
    expect(Object.keys(base)).toEqual(['$edgeAgent', '$edgeHub']);
    expect((base['$edgeAgent']?.['properties.desired'] as Record<string, unknown>)['modules']).toEqual({});
    expect((base['$edgeHub']?.['properties.desired'] as Record<string, unknown>)['routes']).toEqual({});
    expect(validateManifest({ modulesContent: base })).toEqual([]);
  });
});
