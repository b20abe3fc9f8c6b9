// deployment:gen with namespace growth: the five growth variables reach the fleet-controller module's environment,
// empty meaning off (or the default), and a combination the controller would refuse stops generation with the
// controller's own message.
import path from 'node:path';
import { parseControllerOptions } from '../../../../cloud/src/cli-options';
import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';
import { FLEET_TEMPLATES, loadModules, readJson } from '../../../../provisioning/src/deployment/fleet';
import { generateManifest } from '../../../../provisioning/src/deployment/generate';
import { NAMESPACE_GROWTH_VARIABLES } from '../../../../provisioning/src/deployment/namespace-growth';
import { at, VARIABLES } from './fixtures';

const ROOT = path.resolve(__dirname, '../../../..');
const HUB = 'HostName=h.azure-devices.net;SharedAccessKeyName=fleet-controller;SharedAccessKey=a2V5';
const ON = {
  CREATE_NAMESPACES: '2',
  CREATED_NAMESPACE_PREFIX: 'hrf-grown-abcdefghijklm',
  CREATED_NAMESPACE_REGION: 'westeurope',
};

function generate(variables: Record<string, string | undefined>) {
  return generateManifest(readJson(path.join(ROOT, FLEET_TEMPLATES['relay-gateway'])), {
    platform: 'amd64',
    modules: loadModules(ROOT),
    variables: { ...VARIABLES, CONTROLLER_IOTHUB_CONNECTION_STRING: HUB, ...variables },
  }).modulesContent;
}

/** The fleet-controller module's environment in the generated gateway manifest, as the process sees it. */
function controllerEnv(variables: Record<string, string>): Record<string, string> {
  const env = at<Record<string, { value: string }>>(
    generate(variables),
    '/$edgeAgent/properties.desired/modules/fleet-controller/env',
  );
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]));
}

function problemOf(variables: Record<string, string | undefined>): string {
  try {
    generate(variables);
  } catch (err) {
    if (isDeploymentError(err)) return err.message;
    throw err;
  }
  throw new Error('generated');
}

describe('deployment:gen with namespace growth', () => {
  it('passes the five variables empty by default, which the controller reads as no growth', () => {
    const env = controllerEnv({});
    expect(NAMESPACE_GROWTH_VARIABLES.map((v) => env[v])).toEqual(['', '', '', '', '']);
    const parsed = parseControllerOptions([], env);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.namespaceGrowth).toBeUndefined();
  });

  it('passes growth as written, read by the controller with the defaults of the empty companions', () => {
    const env = controllerEnv({ ...ON, NAMESPACE_CREATE_TIMEOUT: '15m' });
    const parsed = parseControllerOptions([], env);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.namespaceGrowth).toEqual({
      prefix: 'hrf-grown-abcdefghijklm',
      region: 'westeurope',
      maxCount: 2,
      createTimeoutMs: 900_000,
    });
  });

  it("refuses CREATE_NAMESPACES without a prefix or region, with the controller's messages", () => {
    const message = problemOf({ CREATE_NAMESPACES: '2' });
    expect(message).toMatch(/the fleet controller would refuse its namespace growth variables/);
    expect(message).toContain(
      '--create-namespaces needs --created-namespace-prefix (or CREATED_NAMESPACE_PREFIX)',
    );
    expect(message).toContain(
      '--create-namespaces needs --created-namespace-region (or CREATED_NAMESPACE_REGION)',
    );
  });

  it('refuses what the controller refuses: companions without a count, a bare timeout, a bad prefix or count', () => {
    expect(problemOf({ CREATE_NAMESPACES: '0', CREATED_NAMESPACE_PREFIX: 'hrf-grown-abc' })).toContain(
      '--created-namespace-prefix need --create-namespaces',
    );
    expect(problemOf({ ...ON, NAMESPACE_CREATE_TIMEOUT: '600' })).toContain(
      '--namespace-create-timeout: "600" needs a unit',
    );
    expect(problemOf({ ...ON, CREATED_NAMESPACE_PREFIX: 'HRF_grown' })).toContain(
      'namespace growth: prefix must be 6-46 lower-case letters',
    );
    expect(problemOf({ ...ON, CREATE_NAMESPACES: '1000' })).toContain(
      'namespace growth: maxCount must be a whole number 1-999',
    );
    expect(problemOf({ ...ON, CREATE_NAMESPACES: 'two' })).toContain(
      '--create-namespaces must be a whole number (0: create none)',
    );
  });

  it('names a growth variable the variables file lacks (no silent default)', () => {
    expect(problemOf({ CREATE_NAMESPACES: undefined })).toMatch(/missing variable CREATE_NAMESPACES/);
  });
});
