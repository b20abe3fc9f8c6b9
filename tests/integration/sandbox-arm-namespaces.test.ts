import { RelayAPI, type RelayNamespace } from '@azure/arm-relay';
import { startSandboxArm, type SandboxArm } from '../../sandbox/src/arm';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';

// Namespaces through the unmodified @azure/arm-relay: list, a long-running create the SDK polls until
// `Succeeded` (each created namespace gets a sandbox relay of its own), tag updates, delete.
describe('sandbox ARM: Relay namespaces through @azure/arm-relay', () => {
  let pki: SandboxPki;
  let relay: SandboxRelay;
  let arm: SandboxArm;
  let client: RelayAPI;
  const started: SandboxRelay[] = [];
  let releaseDataPlane: () => void = () => undefined;
  let dataPlaneGate: Promise<void> = Promise.resolve();
  const rg = 'sandbox-rg';

  beforeAll(async () => {
    pki = await generateSandboxPki();
    relay = await startSandboxRelay({ pki });
    arm = await startSandboxArm({
      relay,
      pki,
      createDataPlane: async () => {
        await dataPlaneGate;
        const r = await startSandboxRelay({ pki });
        started.push(r);
        return { relay: r, stop: () => r.stop() };
      },
    });
    client = new RelayAPI(arm.credential(), arm.subscriptionId, arm.clientOptions());
  });

  afterAll(async () => {
    await arm.stop();
    await relay.stop();
    await Promise.all(started.map((r) => r.stop()));
  });

  const list = async (): Promise<RelayNamespace[]> => {
    const all: RelayNamespace[] = [];
    for await (const ns of client.namespaces.listByResourceGroup(rg)) all.push(ns);
    return all;
  };

  it('lists the namespace it starts with', async () => {
    const all = await list();
    expect(all.map((n) => [n.name, n.provisioningState, n.sku?.name])).toEqual([
      ['sandbox-relay', 'Succeeded', 'Standard'],
    ]);
    expect(all[0]!.serviceBusEndpoint).toBe(`https://${relay.namespace}/`);
  });

  it('creates a namespace as a long-running operation: Created while provisioning, then Succeeded with its own data plane', async () => {
    dataPlaneGate = new Promise((resolve) => (releaseDataPlane = resolve));
    const poller = await client.namespaces.beginCreateOrUpdate(rg, 'fleet-ns-2', {
      location: 'westeurope',
      sku: { name: 'Standard', tier: 'Standard' },
      tags: { managedBy: 'test' },
    });
    expect(poller.isDone()).toBe(false);
    const during = await client.namespaces.get(rg, 'fleet-ns-2');
    expect(during.provisioningState).toBe('Created');
    expect(during.serviceBusEndpoint).toBeUndefined();
    // Below a namespace still provisioning, ARM refuses with 409.
    await expect(client.hybridConnections.createOrUpdate(rg, 'fleet-ns-2', 'hc', {})).rejects.toMatchObject({
      statusCode: 409,
    });
    releaseDataPlane();
    const created = await poller.pollUntilDone();
    expect(created).toMatchObject({
      name: 'fleet-ns-2',
      provisioningState: 'Succeeded',
      tags: { managedBy: 'test' },
      serviceBusEndpoint: `https://${started[0]!.namespace}/`,
    });
    await client.hybridConnections.createOrUpdate(rg, 'fleet-ns-2', 'site-x', {});
    expect(started[0]!.getHybridConnection('site-x').name).toBe('site-x');
    expect(() => relay.getHybridConnection('site-x')).toThrow();
    expect((await list()).map((n) => n.name)).toEqual(['sandbox-relay', 'fleet-ns-2']);
  });

  it('updates tags of an existing namespace in place (200) and refuses a move to another region', async () => {
    const updated = await client.namespaces.beginCreateOrUpdateAndWait(rg, 'fleet-ns-2', {
      location: 'westeurope',
      tags: { managedBy: 'test', more: 'yes' },
    });
    expect(updated.tags).toEqual({ managedBy: 'test', more: 'yes' });
    expect(started).toHaveLength(1);
    await expect(
      client.namespaces.beginCreateOrUpdateAndWait(rg, 'fleet-ns-2', { location: 'northeurope' }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it('deletes a namespace with what it holds and stops its data plane; a second delete succeeds too', async () => {
    await client.namespaces.beginDeleteAndWait(rg, 'fleet-ns-2');
    await expect(client.namespaces.get(rg, 'fleet-ns-2')).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.hybridConnections.get(rg, 'fleet-ns-2', 'site-x')).rejects.toMatchObject({
      statusCode: 404,
    });
    await client.namespaces.beginDeleteAndWait(rg, 'fleet-ns-2');
    expect((await list()).map((n) => n.name)).toEqual(['sandbox-relay']);
  });
});
