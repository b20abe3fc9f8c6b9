// deployment:gen with GATEWAY_MODULES: the gateway template's relay-gateway repeated as relay-gateway-2 … -N,
// each its own module (own health port on the host network, own $edgeHub route, own twin defaults), named as
// the fleet controller names the shards.
import path from 'node:path';
import { gatewayModuleIds } from '../../../../cloud/src/model/gateway-modules';
import { resolveSettings } from '../../../../cloud/src/settings';
import { buildDeploymentContents } from '../../../../provisioning/src/adm/plan';
import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import {
  FLEET_TEMPLATES,
  loadFleetFragments,
  loadModules,
  readJson,
} from '../../../../provisioning/src/deployment/fleet';
import { generateManifest } from '../../../../provisioning/src/deployment/generate';
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import { at, VARIABLES } from './fixtures';

const ROOT = path.resolve(__dirname, '../../../..');

interface Entry {
  env: Record<string, { value: string }>;
  settings: { image: string; createOptions: string };
}

function gatewayManifest(
  gatewayModules: string | undefined,
  template: string = FLEET_TEMPLATES['relay-gateway'],
) {
  const variables: Record<string, string | undefined> = { ...VARIABLES, GATEWAY_MODULES: gatewayModules };
  return generateManifest(readJson(path.join(ROOT, template)), {
    platform: 'amd64',
    modules: loadModules(ROOT),
    variables,
  }).modulesContent;
}

const modulesOf = (content: ReturnType<typeof gatewayManifest>) =>
  at<Record<string, Entry>>(content, '/$edgeAgent/properties.desired/modules');

describe('deployment:gen with GATEWAY_MODULES', () => {
  it('repeats relay-gateway as separate modules named as the controller names its shards', () => {
    const content = gatewayManifest('3');
    const modules = modulesOf(content);
    const instances = Object.keys(modules).filter((m) => m.startsWith('relay-gateway'));
    const settings = resolveSettings({
      pools: [
        { name: 'default', firstPort: 40000, lastPort: 40999, allow: ['0.0.0.0/0'], gatewayModules: 3 },
      ],
    });
    expect(instances).toEqual(gatewayModuleIds(settings, settings.pools.get('default')!));
    const first = modules['relay-gateway']!;
    for (const id of instances) {
      const entry = modules[id]!;
      expect(entry.settings.image).toBe(first.settings.image);
      // Host networking: each instance binds only its own routes' ports, which the controller allocates pool-wide.
      expect(JSON.parse(entry.settings.createOptions).HostConfig.NetworkMode).toBe('host');
      // Its own twin defaults, accepted by the module.
      const desired = at<unknown>(content, `/${id}/properties.desired`);
      expect(desired).toEqual({ schemaVersion: 1, logLevel: 'info', hybridConnections: {}, routes: {} });
      expect(normalizeGatewayConfig(desired).ok).toBe(true);
    }
    // Health endpoints share the host's ports: every one differs, the first stays the load balancer's 8080.
    const healthPorts = Object.values(modules).map((m) => m.env.HEALTH_PORT?.value);
    expect(first.env.HEALTH_PORT).toEqual({ value: '8080' });
    expect(modules['relay-gateway-2']!.env.HEALTH_PORT).toEqual({ value: '8102' });
    expect(new Set(healthPorts).size).toBe(healthPorts.length);
    // Each instance's telemetry has its own route upstream.
    const routes = at<Record<string, { route: string }>>(content, '/$edgeHub/properties.desired/routes');
    expect(Object.values(routes).map((r) => r.route)).toEqual([
      'FROM /messages/modules/relay-gateway/outputs/* INTO $upstream',
      'FROM /messages/modules/relay-gateway-2/outputs/* INTO $upstream',
      'FROM /messages/modules/relay-gateway-3/outputs/* INTO $upstream',
    ]);
    // The controller module beside them reads the same count.
    expect(modules['fleet-controller']!.env.GATEWAY_MODULES).toEqual({ value: '3' });
  });

  it("gives the first instance (the load balancer's probe) the other instances' health ports, and only it", () => {
    const modules = modulesOf(gatewayManifest('3'));
    const others = ['relay-gateway-2', 'relay-gateway-3'].map((id) => modules[id]!.env.HEALTH_PORT?.value);
    expect(modules['relay-gateway']!.env.HEALTH_SIBLING_PORTS).toEqual({ value: others.join(',') });
    expect(modules['relay-gateway-2']!.env.HEALTH_SIBLING_PORTS).toBeUndefined();
    expect(modules['relay-gateway-3']!.env.HEALTH_SIBLING_PORTS).toBeUndefined();
    // One instance: nothing to answer for.
    expect(modulesOf(gatewayManifest('1'))['relay-gateway']!.env.HEALTH_SIBLING_PORTS).toBeUndefined();
  });

  it('deploys one relay-gateway when GATEWAY_MODULES is absent, and leaves the location template alone', () => {
    const modules = modulesOf(gatewayManifest(undefined));
    expect(Object.keys(modules).filter((m) => m.startsWith('relay-gateway'))).toEqual(['relay-gateway']);
    expect(modules['fleet-controller']!.env.GATEWAY_MODULES).toEqual({ value: '1' });
    const edge = modulesOf(gatewayManifest('3', FLEET_TEMPLATES['relay-forwarder']));
    expect(Object.keys(edge)).toEqual(['relay-forwarder']);
  });

  it('refuses a count that is not 1-64, naming the variable', () => {
    for (const bad of ['0', 'three', '65']) {
      let caught: unknown;
      try {
        gatewayManifest(bad);
      } catch (err) {
        caught = err;
      }
      expect(isDeploymentError(caught)).toBe(true);
      expect((caught as Error).message).toContain(
        'GATEWAY_MODULES must be the number of relay-gateway modules',
      );
    }
  });

  it("refuses more instances than the edge agent's own twin can declare (32 KB of desired properties)", () => {
    expect(Object.keys(modulesOf(gatewayManifest('40')))).toHaveLength(41);
    expect(() => gatewayManifest('48')).toThrow(
      /\$edgeAgent\/properties\.desired: desired properties take \d+ bytes; IoT Hub allows 32768/,
    );
  });

  it('puts every instance in the layered gateway deployment of the provisioning CLI', () => {
    const variables = { ...VARIABLES, GATEWAY_MODULES: '3' };
    const fragments = loadFleetFragments({ repoRoot: ROOT, platform: 'amd64', variables });
    expect(fragments.gatewayInstances.map((f) => f.moduleName)).toEqual([
      'relay-gateway',
      'relay-gateway-2',
      'relay-gateway-3',
    ]);
    const layer = buildDeploymentContents({ repoRoot: ROOT, platform: 'amd64', variables }).gateway;
    expect(Object.keys(layer.$edgeAgent!).sort()).toEqual([
      'properties.desired.modules.fleet-controller',
      'properties.desired.modules.relay-gateway',
      'properties.desired.modules.relay-gateway-2',
      'properties.desired.modules.relay-gateway-3',
    ]);
    expect(Object.keys(layer.$edgeHub!)).toHaveLength(3);
  });
});
