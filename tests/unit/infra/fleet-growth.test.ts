/**
 * fleet.json with namespace growth (createNamespaces > 0): a custom role on the resource group with exactly the
 * per-namespace custom role's actions plus Microsoft.Relay/namespaces/write, assigned to the controller's
 * identity (a namespace created later is under no per-namespace assignment); with relayAuth 'entra' the gateways'
 * Azure Relay Sender on the group too; nothing of it with createNamespaces 0. The outputs that become
 * CREATE_NAMESPACES and its companions are read back by the controller's own parser and deployment:gen's check.
 */
import { parseControllerOptions, settingsOfOptions } from '../../../cloud/src/cli-options';
import { resolveSettings } from '../../../cloud/src/settings';
import { checkNamespaceGrowth } from '../../../provisioning/src/deployment/namespace-growth';
import { evaluate, readJson, type ArmResource, type ArmTemplate } from '../../support/arm-template';

const t = readJson<ArmTemplate>('infra/fleet.json');
type Params = Parameters<typeof evaluate>[2];
const base: Params = { namePrefix: 'hrf', relayAuth: 'sas', relayNamespaces: [{}, {}], createNamespaces: 0 };
const SENDER = '26baccc8-eea7-41f1-98f4-1762cc7f685d';
const CONTROLLER = "variables('controllerIdentityName')";
const GATEWAY = "variables('gatewayIdentityName')";

/** The parameters as a deployment gives them: defaults (evaluated) under the values set. */
function withDefaults(params: Params): Params {
  const out: Params = { ...params };
  for (const [name, p] of Object.entries(t.parameters))
    if (!(name in out) && p.defaultValue !== undefined)
      out[name] = evaluate(t, p.defaultValue, out) as Params[string];
  return out;
}

type Role = { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] };
const roleDefinitions = t.resources.filter((r) => r.type === 'Microsoft.Authorization/roleDefinitions');
const permissionsOf = (r: ArmResource) => (r.properties as { permissions: Role[] }).permissions;
const roleNamed = (idVariable: string) =>
  roleDefinitions.find((r) => r.name === `[variables('${idVariable}')]`) as ArmResource;

/** Role assignments without a copy loop (the resource-group ones), evaluated. */
function groupAssignments(params: Params) {
  return t.resources
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.copy === undefined)
    .map((r) => {
      const props = r.properties as Record<string, unknown>;
      return {
        scope: r.scope,
        deployed: r.condition === undefined ? true : evaluate(t, r.condition, params),
        roleDefinitionId: evaluate(t, props.roleDefinitionId, params),
        principal: String(props.principalId),
      };
    });
}

const outputs = (params: Params) =>
  Object.fromEntries(
    [
      'createNamespaces',
      'createdNamespacePrefix',
      'createdNamespaceRegion',
      'createdNamespaceResourceGroup',
    ].map((o) => [o, evaluate(t, t.outputs[o]?.value, params)]),
  );

/** The controller module's environment as docs/deploy-azure.md step 8 fills it from the outputs. */
function envOf(params: Params): Record<string, string> {
  const o = outputs(params);
  return {
    IOTHUB_CONNECTION_STRING: 'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=a2V5',
    AZURE_SUBSCRIPTION_ID: 's',
    RELAY_RESOURCE_GROUP: String(evaluate(t, t.outputs.resourceGroup?.value, params)),
    RELAY_NAMESPACES: String(evaluate(t, t.outputs.relayNamespaces?.value, params)),
    CONTROLLER_POOLS: '[{"name":"default","ports":"40000-40019","allow":["0.0.0.0/0"]}]',
    CREATE_NAMESPACES: String(o.createNamespaces),
    CREATED_NAMESPACE_PREFIX: String(o.createdNamespacePrefix),
    CREATED_NAMESPACE_REGION: String(o.createdNamespaceRegion),
    CREATED_NAMESPACE_RESOURCE_GROUP: String(o.createdNamespaceResourceGroup),
    NAMESPACE_CREATE_TIMEOUT: '',
  };
}

describe('fleet.json: namespace growth', () => {
  it('is off by default: no role for it, outputs the controller reads as no growth', () => {
    expect(t.parameters.createNamespaces?.defaultValue).toBe(0);
    const params = withDefaults({ namePrefix: 'hrf', relayAuth: 'entra', relayNamespaces: [{}] });
    const growthRole = roleNamed('relayGrowthRoleId');
    expect(evaluate(t, growthRole.condition, params)).toBe(false);
    expect(groupAssignments(params).filter((a) => a.deployed)).toEqual([]);
    expect(outputs(params)).toEqual({
      createNamespaces: 0,
      createdNamespacePrefix: '',
      createdNamespaceRegion: '',
      createdNamespaceResourceGroup: '',
    });
    const parsed = parseControllerOptions([], envOf(params));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.namespaceGrowth).toBeUndefined();
    expect(() => checkNamespaceGrowth(envOf(params))).not.toThrow();
  });

  it("grants on the group exactly the per-namespace role's actions plus namespaces/write", () => {
    const [fleet] = permissionsOf(roleNamed('relayRoleId'));
    const [growth] = permissionsOf(roleNamed('relayGrowthRoleId'));
    expect(permissionsOf(roleNamed('relayGrowthRoleId'))).toHaveLength(1);
    // The controller runs the same hybrid connection code (ArmRelayAdmin) in a created namespace as in a
    // configured one, so it needs the same actions there; creating adds write, listing needs read (already in).
    expect([...(growth?.actions ?? [])].sort()).toEqual(
      [...(fleet?.actions ?? []), 'Microsoft.Relay/namespaces/write'].sort(),
    );
    expect(growth?.actions).toContain('Microsoft.Relay/namespaces/read');
    expect(growth?.actions.some((a) => /namespaces\/(delete|\*)$|^\*$|Microsoft\.Relay\/\*/.test(a))).toBe(
      false,
    );
    expect([growth?.notActions, growth?.dataActions, growth?.notDataActions]).toEqual([[], [], []]);
    expect(
      (roleNamed('relayGrowthRoleId').properties as { assignableScopes: string[] }).assignableScopes,
    ).toEqual(['[resourceGroup().id]']);
  });

  it("assigns it to the controller's identity on the resource group, where a namespace created later lies", () => {
    const params = withDefaults({ ...base, createNamespaces: 3 });
    const growthRoleId = evaluate(
      t,
      "[resourceId('Microsoft.Authorization/roleDefinitions', variables('relayGrowthRoleId'))]",
      params,
    );
    expect(evaluate(t, roleNamed('relayGrowthRoleId').condition, params)).toBe(true);
    const controller = groupAssignments(params).filter((a) => a.deployed && a.principal.includes(CONTROLLER));
    // No scope: the deployment's resource group.
    expect(controller).toEqual([
      { scope: undefined, deployed: true, roleDefinitionId: growthRoleId, principal: expect.any(String) },
    ]);
    // The per-namespace assignments name the template's namespaces only: none covers `{prefix}-{n}`.
    const prefix = String(outputs(params).createdNamespacePrefix);
    const perNamespace = t.resources
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.copy !== undefined)
      .flatMap((r) =>
        Array.from({ length: 2 }, (_, i) => String(evaluate(t, r.scope, { ...params, $copyIndex: i }))),
      );
    for (let n = 1; n <= 3; n++) expect(perNamespace.some((s) => s.endsWith(`/${prefix}-${n}`))).toBe(false);
  });

  it('gives the gateways Azure Relay Sender on the group only with relayAuth entra', () => {
    const sender = (relayAuth: string, createNamespaces: number) =>
      groupAssignments(withDefaults({ ...base, relayAuth, createNamespaces })).filter(
        (a) => a.deployed && a.principal.includes(GATEWAY),
      );
    const [entra, ...more] = sender('entra', 2);
    expect(more).toEqual([]);
    expect(entra?.scope).toBeUndefined();
    expect(String(entra?.roleDefinitionId).endsWith(`/roleDefinitions/${SENDER}`)).toBe(true);
    expect(sender('sas', 2)).toEqual([]);
    expect(sender('entra', 0)).toEqual([]);
  });

  it('outputs CREATE_NAMESPACES and its companions in the form the controller reads, defaults included', () => {
    const params = withDefaults({ ...base, namePrefix: 'a'.repeat(10), createNamespaces: 4 });
    expect(outputs(params)).toEqual({
      createNamespaces: 4,
      createdNamespacePrefix: 'aaaaaaaaaa-grown-abcdefghijklm',
      createdNamespaceRegion: 'westeurope', // resourceGroup().location
      createdNamespaceResourceGroup: 'rg',
    });
    const parsed = parseControllerOptions([], envOf(params));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    // The settings check too (prefix form, 1-999): the longest namePrefix still makes a valid prefix.
    const settings = resolveSettings(settingsOfOptions(parsed.options));
    expect(settings.namespaceGrowth).toMatchObject({
      prefix: 'aaaaaaaaaa-grown-abcdefghijklm',
      region: 'westeurope',
      resourceGroup: 'rg',
      maxCount: 4,
    });
    expect(() => checkNamespaceGrowth(envOf(params))).not.toThrow();
    // A prefix and region given pass through as written; the parameter's bounds match the controller's.
    const custom = withDefaults({
      ...base,
      createNamespaces: 1,
      createdNamespacePrefix: 'contoso-relay-grown',
      createdNamespaceRegion: 'northeurope',
    });
    expect(outputs(custom)).toMatchObject({
      createdNamespacePrefix: 'contoso-relay-grown',
      createdNamespaceRegion: 'northeurope',
    });
    expect(t.parameters.createNamespaces).toMatchObject({ minValue: 0, maxValue: 999 });
    expect(t.parameters.createdNamespacePrefix?.maxLength).toBe(46);
  });
});
