import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  FLEET_TEMPLATES,
  findRepoRoot,
  loadFleetFragments,
  loadModules,
  readJson,
} from '../../../../provisioning/src/deployment/fleet';
import { generateManifest } from '../../../../provisioning/src/deployment/generate';
import { at, VARIABLES } from './fixtures';

const ROOT = path.resolve(__dirname, '../../../..');

/** Ajv with the module's configuration schema and the shared schemas it references. */
function moduleConfigValidator(moduleName: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const commonDir = path.join(ROOT, 'modules/common/src/config');
  for (const file of readdirSync(commonDir).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(path.join(commonDir, file), 'utf8')));
  }
  return ajv.compile(
    JSON.parse(readFileSync(path.join(ROOT, `modules/${moduleName}/src/config/schema.json`), 'utf8')),
  );
}

function generate(template: string, platform: string) {
  return generateManifest(readJson(path.join(ROOT, template)), {
    platform,
    modules: loadModules(ROOT),
    variables: VARIABLES,
  });
}

describe('the repository templates', () => {
  it.each(Object.values(FLEET_TEMPLATES).flatMap((t) => ['amd64', 'arm64v8'].map((p) => [t, p])))(
    '%s generates a valid %s manifest',
    (template, platform) => {
      const manifest = generate(template, platform);
      expect(JSON.stringify(manifest)).not.toContain('${');
      expect(JSON.stringify(manifest)).toContain(`:0.1.0-${platform}"`);
    },
  );

  it("generated edge manifest's relay-forwarder desired properties validate against the module's own schema", () => {
    const desired = generate(FLEET_TEMPLATES['relay-forwarder'], 'amd64').modulesContent['relay-forwarder']?.[
      'properties.desired'
    ];
    expect(desired).toEqual({ schemaVersion: 1, logLevel: 'info', hybridConnections: {} });
    const validate = moduleConfigValidator('relay-forwarder');
    expect(validate.errors ?? []).toEqual([]);
    expect(validate(desired)).toBe(true);
  });

  it("generated gateway manifest's relay-gateway desired properties validate against the module's own schema", () => {
    const desired = generate(FLEET_TEMPLATES['relay-gateway'], 'amd64').modulesContent['relay-gateway']?.[
      'properties.desired'
    ];
    const validate = moduleConfigValidator('relay-gateway');
    expect(validate(desired)).toBe(true);
  });

  it('routes the forwarder telemetry to $upstream and gives the gateway host networking and its health port', () => {
    const edge = generate(FLEET_TEMPLATES['relay-forwarder'], 'amd64').modulesContent;
    const routes = Object.values(
      (edge['$edgeHub']?.['properties.desired'] as { routes: Record<string, { route: string }> }).routes,
    );
    expect(routes.map((r) => r.route)).toContain(
      'FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream',
    );

    const gateway = generate(FLEET_TEMPLATES['relay-gateway'], 'amd64').modulesContent;
    interface Entry {
      env: Record<string, { value: string }>;
      settings: { createOptions: string };
    }
    const entry = at<Entry>(gateway, '/$edgeAgent/properties.desired/modules/relay-gateway');
    const createOptions = JSON.parse(entry.settings.createOptions);
    expect(createOptions.HostConfig.NetworkMode).toBe('host');
    expect(entry.env.HEALTH_PORT).toEqual({ value: '8080' });
    expect(createOptions.Healthcheck.Test.join(' ')).toContain("path:'/healthz'");
    // The pool's public range goes to its one reader, the controller module beside the gateway.
    expect(entry.env.GATEWAY_PORT_RANGE_START).toBeUndefined();
    const controller = at<Entry>(gateway, '/$edgeAgent/properties.desired/modules/fleet-controller');
    expect(controller.env.GATEWAY_PORT_RANGE_START).toEqual({ value: '40000' });
    expect(controller.env.GATEWAY_PORT_RANGE_END).toEqual({ value: '40999' });
    expect(controller.env.HEALTH_PORT).toEqual({ value: '8082' });
  });

  it('uses the IoT Edge twin schema versions $edgeAgent 1.1 and $edgeHub 1.2', () => {
    for (const template of Object.values(FLEET_TEMPLATES)) {
      const doc = readJson(path.join(ROOT, template));
      expect(at(doc, '/modulesContent/$edgeAgent/properties.desired/schemaVersion')).toBe('1.1');
      expect(at(doc, '/modulesContent/$edgeHub/properties.desired/schemaVersion')).toBe('1.2');
    }
  });

  it('lists every template and module.json variable in .env.example', () => {
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const defined = new Set([...example.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const sources = [
      ...Object.values(FLEET_TEMPLATES),
      'modules/relay-forwarder/module.json',
      'modules/relay-gateway/module.json',
      'modules/fleet-controller/module.json',
    ];
    const used = new Set(
      sources.flatMap((f) =>
        [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]),
      ),
    );
    expect([...used].filter((v) => !defined.has(v))).toEqual([]);
    expect([...used].sort()).toEqual(Object.keys(VARIABLES).sort());
  });
});

describe('loadFleetFragments', () => {
  it('finds the repository root from its own location', () => {
    expect(findRepoRoot()).toBe(ROOT);
  });

  it('yields the forwarder and gateway fragments from the same templates as deployment:gen', () => {
    const fragments = loadFleetFragments({ repoRoot: ROOT, platform: 'arm64v8', variables: VARIABLES });
    expect(fragments['relay-forwarder'].edgeAgentModule).toEqual(
      at(
        generate(FLEET_TEMPLATES['relay-forwarder'], 'arm64v8'),
        '/modulesContent/$edgeAgent/properties.desired/modules/relay-forwarder',
      ),
    );
    expect(fragments['relay-forwarder'].desiredProperties).toEqual({
      schemaVersion: 1,
      logLevel: 'info',
      hybridConnections: {},
    });
    expect(Object.keys(fragments['relay-gateway'].routes)).toEqual(['gatewayToUpstream']);
    expect(fragments['relay-gateway'].desiredProperties).toEqual({
      schemaVersion: 1,
      logLevel: 'info',
      hybridConnections: {},
      routes: {},
    });
    expect((fragments['relay-gateway'].edgeAgentModule['settings'] as Record<string, string>)['image']).toBe(
      'fleetacr.azurecr.io/relay-gateway:0.1.0-arm64v8',
    );
  });
});
