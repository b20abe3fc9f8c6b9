/**
 * fleet.json with several Relay namespaces: one Standard namespace per entry of `relayNamespaces` (the first keeps
 * the single namespace's old name, so a redeploy adopts it), the controller's custom role on each, the built-in
 * Azure Relay Sender for the gateway identity on each only with relayAuth 'entra', and the output that becomes
 * RELAY_NAMESPACES read back by the controller's own option parser and by deployment:gen's check.
 */
import { parseControllerOptions } from '../../../cloud/src/cli-options';
import { checkRelayNamespaces } from '../../../provisioning/src/deployment/relay-namespaces';
import { evaluate, readJson, type ArmResource, type ArmTemplate } from '../../support/arm-template';

const t = readJson<ArmTemplate>('infra/fleet.json');
type Params = Parameters<typeof evaluate>[2];
const example = readJson<{ parameters: Record<string, { value: Params[string] }> }>(
  'infra/fleet.parameters.example.json',
);
const base: Params = { namePrefix: 'hrf', relayAuth: 'sas', relayNamespaces: [{}], createNamespaces: 0 };
const SENDER = '26baccc8-eea7-41f1-98f4-1762cc7f685d';

/** Every copy of a resource, its expressions evaluated at its index (those it can evaluate: name, scope, …). */
function copies(r: ArmResource, params: Params): Record<string, unknown>[] {
  const copy = r.copy as { count: string } | undefined;
  const count = copy ? Number(evaluate(t, copy.count, params)) : 1;
  return Array.from({ length: count }, (_, i) => {
    const p = { ...params, $copyIndex: i };
    const props = (r.properties ?? {}) as Record<string, unknown>;
    return {
      name: evaluate(t, r.name, p),
      scope: evaluate(t, r.scope, p),
      condition: r.condition === undefined ? true : evaluate(t, r.condition, p),
      roleDefinitionId: evaluate(t, props.roleDefinitionId, p),
      principalId: props.principalId,
    };
  });
}

const ofType = (type: string) => t.resources.filter((r) => r.type === type);
const namespaces = (params: Params) =>
  ofType('Microsoft.Relay/namespaces').flatMap((r) => copies(r, params).map((c) => c.name as string));

describe('fleet.json: several Relay namespaces', () => {
  it('keeps the single namespace of the old template (same name) when relayNamespaces has one entry', () => {
    expect(namespaces(base)).toEqual([`hrf-relay-${String(evaluate(t, "[uniqueString('x')]", {}))}`]);
    expect(t.parameters.relayNamespaces?.defaultValue).toEqual([{}]);
    expect(evaluate(t, t.outputs.relayNamespace?.value, base)).toBe(namespaces(base)[0]);
  });

  it('creates one Standard namespace per entry, each named by its position', () => {
    const params: Params = { ...base, relayNamespaces: [{}, { maxConnections: 2500 }, {}] };
    const names = namespaces(params);
    expect(names).toEqual([
      'hrf-relay-abcdefghijklm',
      'hrf-relay2-abcdefghijklm',
      'hrf-relay3-abcdefghijklm',
    ]);
    expect(evaluate(t, t.outputs.relayNamespaceNames?.value, params)).toEqual(names);
    const [ns] = ofType('Microsoft.Relay/namespaces');
    expect(ns?.sku).toEqual({ name: 'Standard', tier: 'Standard' });
  });

  it("gives the controller its custom role on every namespace, and nothing else of the namespace's", () => {
    const params = { ...base, relayNamespaces: [{}, {}, {}] };
    const names = namespaces(params);
    const controllerRole = ofType('Microsoft.Authorization/roleAssignments')
      .flatMap((r) => copies(r, params))
      // Namespace scopes only: the resource-group roles of namespace growth are tested in fleet-growth.test.ts.
      .filter((a) => a.scope !== undefined)
      .filter((a) => String(a.principalId).includes("variables('controllerIdentityName')"));
    expect(controllerRole.map((a) => a.scope)).toEqual(names.map((n) => `Microsoft.Relay/namespaces/${n}`));
    const roleId = evaluate(
      t,
      "[resourceId('Microsoft.Authorization/roleDefinitions', variables('relayRoleId'))]",
      params,
    );
    expect(controllerRole.every((a) => a.roleDefinitionId === roleId && a.condition === true)).toBe(true);
    // The custom role is assignable in the whole group, so it covers every namespace the loop adds.
    const role = ofType('Microsoft.Authorization/roleDefinitions')[0] as unknown as {
      properties: { assignableScopes: string[] };
    };
    expect(role.properties.assignableScopes).toEqual(['[resourceGroup().id]']);
    // Names differ per namespace (a repeated name would be one assignment moved around, not several).
    expect(new Set(controllerRole.map((a) => a.name)).size).toBe(names.length);
  });

  it('gives the gateway identity Azure Relay Sender on every namespace only with relayAuth entra', () => {
    const gatewayAssignments = (relayAuth: string) =>
      ofType('Microsoft.Authorization/roleAssignments')
        .flatMap((r) => copies(r, { ...base, relayAuth, relayNamespaces: [{}, {}] }))
        .filter((a) => a.scope !== undefined)
        .filter((a) => String(a.principalId).includes("variables('gatewayIdentityName')"));
    const entra = gatewayAssignments('entra');
    expect(entra.map((a) => [a.scope, a.condition])).toEqual(
      namespaces({ ...base, relayNamespaces: [{}, {}] }).map((n) => [
        `Microsoft.Relay/namespaces/${n}`,
        true,
      ]),
    );
    expect(entra.every((a) => String(a.roleDefinitionId).endsWith(`/roleDefinitions/${SENDER}`))).toBe(true);
    expect(gatewayAssignments('sas').every((a) => a.condition === false)).toBe(true);
    expect(t.parameters.relayAuth?.defaultValue).toBe('sas');
  });

  it("outputs RELAY_NAMESPACES in the form the controller's own parser reads, limits included", () => {
    const params = { ...base, relayNamespaces: example.parameters.relayNamespaces?.value ?? [] };
    const text = evaluate(t, t.outputs.relayNamespaces?.value, params) as string;
    const parsed = parseControllerOptions([], {
      IOTHUB_CONNECTION_STRING: 'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=a2V5',
      AZURE_SUBSCRIPTION_ID: 's',
      RELAY_NAMESPACES: text,
      CONTROLLER_POOLS: '[{"name":"default","ports":"40000-40019","allow":["0.0.0.0/0"]}]',
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.options.namespaces).toEqual([
      { name: 'hrf-relay-abcdefghijklm', resourceGroup: 'rg' },
      { name: 'hrf-relay2-abcdefghijklm', resourceGroup: 'rg', maxConnections: 4000 },
    ]);
    // deployment:gen accepts it for the controller module, with RELAY_NAMESPACE empty.
    expect(() => checkRelayNamespaces({ RELAY_NAMESPACE: '', RELAY_NAMESPACES: text })).not.toThrow();
  });

  it('refuses through the controller an entry with a key the controller does not know', () => {
    const text = evaluate(t, t.outputs.relayNamespaces?.value, {
      ...base,
      relayNamespaces: [{ maxConnection: 10 }],
    }) as string;
    expect(() => checkRelayNamespaces({ RELAY_NAMESPACES: text })).toThrow(
      /RELAY_NAMESPACES\[0\]: unknown maxConnection/,
    );
  });
});
