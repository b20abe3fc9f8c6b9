// deployment:gen with several Relay namespaces: RELAY_NAMESPACES reaches the fleet-controller module's environment
// as written, and a list the controller would refuse (or beside RELAY_NAMESPACE) stops generation naming the cause.
import path from 'node:path';
import { parseControllerOptions } from '../../../../cloud/src/cli-options';
import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import { FLEET_TEMPLATES, loadModules, readJson } from '../../../../provisioning/src/deployment/fleet';
import { generateManifest } from '../../../../provisioning/src/deployment/generate';
import { at, VARIABLES } from './fixtures';

const ROOT = path.resolve(__dirname, '../../../..');
const LIST =
  '[{"name":"hrf-relay-abc","resourceGroup":"hrf"},{"name":"hrf-relay2-abc","resourceGroup":"hrf","maxConnections":4000}]';

function generate(variables: Record<string, string>) {
  return generateManifest(readJson(path.join(ROOT, FLEET_TEMPLATES['relay-gateway'])), {
    platform: 'amd64',
    modules: loadModules(ROOT),
    variables: { ...VARIABLES, ...variables },
  }).modulesContent;
}

function problemOf(variables: Record<string, string>): string {
  try {
    generate(variables);
  } catch (err) {
    if (isDeploymentError(err)) return err.message;
    throw err;
  }
  throw new Error('generated');
}

/** The fleet-controller module's environment in the generated gateway manifest, as the process sees it. */
function controllerEnv(variables: Record<string, string>): Record<string, string> {
  const env = at<Record<string, { value: string }>>(
    generate(variables),
    '/$edgeAgent/properties.desired/modules/fleet-controller/env',
  );
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]));
}

const HUB = 'HostName=h.azure-devices.net;SharedAccessKeyName=fleet-controller;SharedAccessKey=a2V5';

describe('deployment:gen with RELAY_NAMESPACES', () => {
  it('gives the controller module an environment its own parser reads as several namespaces', () => {
    const env = controllerEnv({
      CONTROLLER_IOTHUB_CONNECTION_STRING: HUB,
      RELAY_NAMESPACE: '',
      RELAY_NAMESPACES: LIST,
    });
    const parsed = parseControllerOptions([], env);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.namespaces?.map((n) => n.name)).toEqual(['hrf-relay-abc', 'hrf-relay2-abc']);
    expect(parsed.options.relayAuth).toBeUndefined();
  });

  it('passes RELAY_AUTH and the identities Entra ID needs (fleet.json outputs relayAuth, gatewayIdentityClientId)', () => {
    const env = controllerEnv({
      CONTROLLER_IOTHUB_CONNECTION_STRING: HUB,
      RELAY_AUTH: 'entra',
      GATEWAY_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });
    const parsed = parseControllerOptions([], env);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.relayAuth).toEqual({
      type: 'entra',
      gatewayClientId: '11111111-2222-3333-4444-555555555555',
    });
  });

  it("passes the list to the controller module's environment, RELAY_NAMESPACE empty", () => {
    const content = generate({ RELAY_NAMESPACE: '', RELAY_NAMESPACES: LIST });
    const env = at<Record<string, { value: string }>>(
      content,
      '/$edgeAgent/properties.desired/modules/fleet-controller/env',
    );
    expect(env.RELAY_NAMESPACES).toEqual({ value: LIST });
    expect(env.RELAY_NAMESPACE).toEqual({ value: '' });
  });

  it('keeps the single namespace when RELAY_NAMESPACES is empty', () => {
    const env = at<Record<string, { value: string }>>(
      generate({ RELAY_NAMESPACE: 'relay', RELAY_NAMESPACES: '' }),
      '/$edgeAgent/properties.desired/modules/fleet-controller/env',
    );
    expect([env.RELAY_NAMESPACE, env.RELAY_NAMESPACES]).toEqual([{ value: 'relay' }, { value: '' }]);
  });

  it('refuses both at once', () => {
    expect(problemOf({ RELAY_NAMESPACE: 'relay', RELAY_NAMESPACES: LIST })).toMatch(
      /RELAY_NAMESPACE and RELAY_NAMESPACES are both set/,
    );
  });

  it("refuses a list the controller's parser refuses, in the variable's name", () => {
    expect(problemOf({ RELAY_NAMESPACE: '', RELAY_NAMESPACES: '["a",' })).toMatch(
      /RELAY_NAMESPACES is not JSON/,
    );
    expect(problemOf({ RELAY_NAMESPACE: '', RELAY_NAMESPACES: '[]' })).toMatch(
      /RELAY_NAMESPACES must be a JSON list/,
    );
    expect(
      problemOf({ RELAY_NAMESPACE: '', RELAY_NAMESPACES: '[{"name":"a","maxConnections":"many"}]' }),
    ).toMatch(/RELAY_NAMESPACES\[0\]: maxConnections must be a number/);
  });

  it('names RELAY_NAMESPACES when the variables file lacks it (no silent single namespace)', () => {
    const { RELAY_NAMESPACES: _absent, ...rest } = VARIABLES;
    expect(() =>
      generateManifest(readJson(path.join(ROOT, FLEET_TEMPLATES['relay-gateway'])), {
        platform: 'amd64',
        modules: loadModules(ROOT),
        variables: rest,
      }),
    ).toThrow(/RELAY_NAMESPACES/);
  });
});
