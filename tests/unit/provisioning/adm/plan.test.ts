import {
  buildDeploymentContents,
  canonicalJson,
  contentHash,
  planDeployments,
  type DeploymentContents,
} from '../../../../provisioning/src/adm/plan';
import { TEMPLATE_VARIABLES } from '../../../support/provisioning-fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONTENTS: DeploymentContents = {
  base: { $edgeAgent: { 'properties.desired': { schemaVersion: '1.1', modules: {} } } },
  forwarder: { $edgeAgent: { 'properties.desired.modules.relay-forwarder': { version: '1.0' } } },
  gateway: { $edgeAgent: { 'properties.desired.modules.relay-gateway': { version: '1.0' } } },
};

describe('planDeployments', () => {
  it('gives each deployment an id from its content hash, the tag-model target condition and layered priorities', () => {
    const planned = planDeployments(CONTENTS);
    expect(planned.map((p) => [p.role, p.targetCondition, p.priority, p.labels])).toEqual([
      [
        'base',
        "tags.relay.role='location' OR tags.relay.role='gateway'",
        10,
        { managedBy: 'hybrid-relay-fleet', deployment: 'relay-base' },
      ],
      [
        'forwarder',
        "tags.relay.role='location'",
        20,
        { managedBy: 'hybrid-relay-fleet', deployment: 'relay-forwarder' },
      ],
      [
        'gateway',
        "tags.relay.role='gateway'",
        20,
        { managedBy: 'hybrid-relay-fleet', deployment: 'relay-gateway' },
      ],
    ]);
    for (const p of planned) {
      expect(p.id).toMatch(new RegExp(`^relay-${p.role}-[0-9a-f]{10}$`));
      expect(p.modulesContent).toBe(CONTENTS[p.role]);
    }
    expect(planDeployments(CONTENTS).map((p) => p.id)).toEqual(planned.map((p) => p.id));
  });

  it('changes only the id of the deployment whose content changed', () => {
    const before = planDeployments(CONTENTS);
    const after = planDeployments({
      ...CONTENTS,
      forwarder: { $edgeAgent: { 'properties.desired.modules.relay-forwarder': { version: '1.1' } } },
    });
    expect(after.map((p, i) => p.id === before[i]?.id)).toEqual([true, false, true]);
  });

  it('takes a prefix and priorities, and refuses bad ones', () => {
    const planned = planDeployments(CONTENTS, { prefix: 'lab-2', priorities: { base: 1, gateway: 5 } });
    expect(planned.map((p) => [p.id.slice(0, -11), p.priority])).toEqual([
      ['lab-2-base', 1],
      ['lab-2-forwarder', 20],
      ['lab-2-gateway', 5],
    ]);
    expect(() => planDeployments(CONTENTS, { prefix: 'Relay' })).toThrow(/prefix/);
    expect(() => planDeployments(CONTENTS, { priorities: { base: -1 } })).toThrow(/priority/);
  });

  it('hashes canonical JSON: key order does not matter, array order does', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    expect(contentHash({ a: [1, 2] })).not.toBe(contentHash({ a: [2, 1] }));
  });
});

describe('buildDeploymentContents (the repository templates through provisioning/src/deployment)', () => {
  const contents = buildDeploymentContents({ variables: TEMPLATE_VARIABLES }) as Record<string, Json>;

  it('base: runtime and system modules with no custom module, route or module twin', () => {
    const agent = contents.base?.['$edgeAgent']['properties.desired'];
    expect(agent.schemaVersion).toBe('1.1');
    expect(agent.modules).toEqual({});
    expect(agent.systemModules.edgeHub.settings.image).toBe('mcr.microsoft.com/azureiotedge-hub:1.5');
    expect(agent.runtime.settings.registryCredentials.fleetRegistry.address).toBe('sandbox.azurecr.io');
    expect(contents.base?.['$edgeHub']['properties.desired'].routes).toEqual({});
    expect(Object.keys(contents.base ?? {})).toEqual(['$edgeAgent', '$edgeHub']);
  });

  it('layers: each module entry and its routes, never its twin', () => {
    const forwarder = contents.forwarder?.['$edgeAgent']['properties.desired.modules.relay-forwarder'];
    expect(forwarder.settings.image).toMatch(/^sandbox\.azurecr\.io\/relay-forwarder:[\w.-]+-amd64$/);
    expect(forwarder.restartPolicy).toBe('always');
    expect(contents.forwarder?.['$edgeHub']).toEqual({
      'properties.desired.routes.forwarderToUpstream': {
        route: 'FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream',
        priority: 0,
        timeToLiveSecs: 86400,
      },
    });
    expect(Object.keys(contents.forwarder ?? {})).toEqual(['$edgeAgent', '$edgeHub']);
    const gateway = contents.gateway?.['$edgeAgent']['properties.desired.modules.relay-gateway'];
    // The public range reaches the controller (its one reader), not the gateway, which gets ports by twin.
    expect(gateway.env.GATEWAY_PORT_RANGE_START).toBeUndefined();
    const controller = contents.gateway?.['$edgeAgent']['properties.desired.modules.fleet-controller'];
    expect(controller.env.GATEWAY_PORT_RANGE_START).toEqual({ value: '40000' });
    expect(controller.settings.image).toMatch(/\/fleet-controller:0\.1\.0-amd64$/);
  });
});
