import { RelayAPI, type HybridConnection } from '@azure/arm-relay';
import { startSandboxArm, type SandboxArm } from '../../sandbox/src/arm';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';

// Conformance of the sandbox ARM endpoint with the unmodified @azure/arm-relay (RelayAPI): resources,
// idempotent PUTs, deletes, nextLink paging and ARM's error body shape.
describe('sandbox ARM: hybrid connections and rules through @azure/arm-relay', () => {
  let relay: SandboxRelay;
  let arm: SandboxArm;
  let client: RelayAPI;
  const rg = 'sandbox-rg';
  const ns = 'sandbox-relay';

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    relay = await startSandboxRelay({ pki });
    arm = await startSandboxArm({ relay, pki, pageSize: 2 });
    client = new RelayAPI(arm.credential(), arm.subscriptionId, arm.clientOptions());
  });

  afterAll(async () => {
    await arm.stop();
    await relay.stop();
  });

  it('creates a hybrid connection (PUT is idempotent and answers 200), gets it, and it exists on the relay', async () => {
    const created = await client.hybridConnections.createOrUpdate(rg, ns, 'site-a', {
      requiresClientAuthorization: true,
      userMetadata: '{"location":"a"}',
    });
    expect(created).toMatchObject({
      name: 'site-a',
      type: 'Microsoft.Relay/namespaces/hybridConnections',
      id: `/subscriptions/${arm.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Relay/namespaces/${ns}/hybridConnections/site-a`,
      requiresClientAuthorization: true,
      userMetadata: '{"location":"a"}',
      listenerCount: 0,
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    const again = await client.hybridConnections.createOrUpdate(rg, ns, 'site-a', {
      userMetadata: 'changed',
    });
    expect(again.createdAt).toEqual(created.createdAt);
    expect(again.userMetadata).toBe('changed');
    expect(again.requiresClientAuthorization).toBe(true);
    const got = await client.hybridConnections.get(rg, ns, 'SITE-A');
    expect(got.name).toBe('site-a');
    expect(relay.getHybridConnection('site-a').userMetadata).toBe('changed');
  });

  it('lists every hybrid connection, following nextLink across pages', async () => {
    for (const name of ['list-1', 'list-2', 'list-3', 'list-4']) {
      await client.hybridConnections.createOrUpdate(rg, ns, name, {});
    }
    const pages: HybridConnection[][] = [];
    for await (const page of client.hybridConnections.listByNamespace(rg, ns).byPage()) pages.push(page);
    const names = pages.flat().map((h) => h.name);
    expect(names).toEqual(expect.arrayContaining(['list-1', 'list-2', 'list-3', 'list-4', 'site-a']));
    expect(pages.length).toBe(Math.ceil(names.length / 2));
  });

  it('creates, reads, lists and deletes authorization rules on a hybrid connection', async () => {
    await client.hybridConnections.createOrUpdate(rg, ns, 'rules-hc', {});
    const listen = await client.hybridConnections.createOrUpdateAuthorizationRule(
      rg,
      ns,
      'rules-hc',
      'forwarder',
      {
        rights: ['Listen'],
      },
    );
    expect(listen).toMatchObject({
      name: 'forwarder',
      rights: ['Listen'],
      type: 'Microsoft.Relay/namespaces/hybridConnections/authorizationRules',
    });
    const keysBefore = await client.hybridConnections.listKeys(rg, ns, 'rules-hc', 'forwarder');
    // PUT again with other rights keeps the keys, as Azure does.
    await client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'rules-hc', 'forwarder', {
      rights: ['Listen', 'Send'],
    });
    const keysAfter = await client.hybridConnections.listKeys(rg, ns, 'rules-hc', 'forwarder');
    expect(keysAfter.primaryKey).toBe(keysBefore.primaryKey);
    expect(
      (await client.hybridConnections.getAuthorizationRule(rg, ns, 'rules-hc', 'forwarder')).rights,
    ).toEqual(['Listen', 'Send']);
    await client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'rules-hc', 'gateway', {
      rights: ['Send'],
    });
    const rules = [];
    for await (const r of client.hybridConnections.listAuthorizationRules(rg, ns, 'rules-hc'))
      rules.push(r.name);
    expect(rules.sort()).toEqual(['forwarder', 'gateway']);

    await client.hybridConnections.deleteAuthorizationRule(rg, ns, 'rules-hc', 'gateway');
    await expect(
      client.hybridConnections.getAuthorizationRule(rg, ns, 'rules-hc', 'gateway'),
    ).rejects.toMatchObject({
      statusCode: 404,
      code: 'NotFound',
    });
  });

  it('answers DELETE with 200 when the resource existed and 204 when it did not', async () => {
    await client.hybridConnections.createOrUpdate(rg, ns, 'to-delete', {});
    const statuses: number[] = [];
    const onResponse = (r: { status: number }) => statuses.push(r.status);
    await client.hybridConnections.delete(rg, ns, 'to-delete', { onResponse });
    await client.hybridConnections.delete(rg, ns, 'to-delete', { onResponse });
    expect(statuses).toEqual([200, 204]);
    await expect(client.hybridConnections.get(rg, ns, 'to-delete')).rejects.toMatchObject({
      statusCode: 404,
    });
    expect(() => relay.getHybridConnection('to-delete')).toThrow();
  });

  it('returns listKeys in the AccessKeys shape with entity connection strings', async () => {
    await client.hybridConnections.createOrUpdate(rg, ns, 'keys-hc', {});
    await client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'keys-hc', 'gw', {
      rights: ['Send'],
    });
    const keys = await client.hybridConnections.listKeys(rg, ns, 'keys-hc', 'gw');
    expect(keys.keyName).toBe('gw');
    expect(keys.primaryConnectionString).toBe(
      `Endpoint=sb://${relay.namespace}/;SharedAccessKeyName=gw;SharedAccessKey=${keys.primaryKey};EntityPath=keys-hc`,
    );
    expect(keys.secondaryKey).not.toBe(keys.primaryKey);
    const regenerated = await client.hybridConnections.regenerateKeys(rg, ns, 'keys-hc', 'gw', {
      keyType: 'SecondaryKey',
    });
    expect(regenerated.primaryKey).toBe(keys.primaryKey);
    expect(regenerated.secondaryKey).not.toBe(keys.secondaryKey);
    const chosen = await client.hybridConnections.regenerateKeys(rg, ns, 'keys-hc', 'gw', {
      keyType: 'PrimaryKey',
      key: 'c2FuZGJveC1jaG9zZW4ta2V5LTAwMDAwMDAwMDA=',
    });
    expect(chosen.primaryKey).toBe('c2FuZGJveC1jaG9zZW4ta2V5LTAwMDAwMDAwMDA=');
  });

  it('serves the namespace and its rules (RootManageSharedAccessKey)', async () => {
    const namespace = await client.namespaces.get(rg, ns);
    expect(namespace).toMatchObject({
      name: ns,
      location: 'westeurope',
      provisioningState: 'Succeeded',
      serviceBusEndpoint: `https://${relay.namespace}/`,
      sku: { name: 'Standard', tier: 'Standard' },
    });
    const listed = [];
    for await (const n of client.namespaces.listByResourceGroup(rg)) listed.push(n.name);
    expect(listed).toEqual([ns]);
    const root = await client.namespaces.listKeys(rg, ns, 'RootManageSharedAccessKey');
    expect(root.primaryKey).toBe(relay.rootKeys.primaryKey);
    expect(root.primaryConnectionString).not.toContain('EntityPath');
  });

  it("answers unknown subscription, resource group, namespace, entity and rule with 404 and ARM's error codes", async () => {
    const other = new RelayAPI(arm.credential(), '11111111-2222-3333-4444-555555555555', arm.clientOptions());
    await expect(other.hybridConnections.get(rg, ns, 'site-a')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SubscriptionNotFound',
    });
    await expect(client.hybridConnections.get('other-rg', ns, 'site-a')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceGroupNotFound',
    });
    await expect(client.hybridConnections.get(rg, 'other-namespace', 'site-a')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
    await expect(client.hybridConnections.get(rg, ns, 'no-such-hc')).rejects.toMatchObject({
      statusCode: 404,
      code: 'NotFound',
    });
    await expect(client.hybridConnections.listKeys(rg, ns, 'site-a', 'no-such-rule')).rejects.toMatchObject({
      statusCode: 404,
      code: 'NotFound',
    });
    await expect(
      client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'no-such-hc', 'r', {
        rights: ['Listen'],
      }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses a rule without valid rights with 400', async () => {
    await expect(
      client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'site-a', 'bad', { rights: [] }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' });
  });
});
