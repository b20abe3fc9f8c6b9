// ArmNamespaceProvisioner on the unmodified @azure/arm-relay against the sandbox ARM over TLS: a creation found in
// progress (a controller restarted mid-creation) is followed to Succeeded without a second PUT, one that failed is
// provisioned again, only this controller's tagged namespaces are listed, and a stop ends the wait.
import { RelayAPI } from '@azure/arm-relay';
import { ArmNamespaceProvisioner, CREATED_BY_TAG } from '../../cloud/src/adapters/arm-namespace-provisioner';
import { isControllerError } from '../../cloud/src/errors';
import { startSandboxArm, type SandboxArm } from '../../sandbox/src/arm';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';

jest.setTimeout(60_000);

describe('ArmNamespaceProvisioner against the sandbox ARM', () => {
  let arm: SandboxArm;
  let relay: SandboxRelay;
  let client: RelayAPI;
  const started: SandboxRelay[] = [];
  // Each data plane start waits for `gate`; `failNext` makes the next one fail.
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  let failNext = false;
  const puts: string[] = [];

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    relay = await startSandboxRelay({ pki });
    arm = await startSandboxArm({
      relay,
      pki,
      createDataPlane: async (name) => {
        puts.push(name);
        await gate;
        if (failNext) {
          failNext = false;
          throw new Error('no capacity in the region');
        }
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
  });

  const provisioner = (controllerId = 'fleet-a') =>
    new ArmNamespaceProvisioner(client, {
      resourceGroup: arm.resourceGroup,
      region: 'westeurope',
      controllerId,
      pollIntervalMs: 50,
    });

  it('follows a creation already in progress with GET until Succeeded, starting no second one', async () => {
    gate = new Promise((resolve) => (open = resolve));
    // A controller that crashed right after its PUT: the namespace exists, still `Created`.
    await client.namespaces.beginCreateOrUpdate(arm.resourceGroup, 'fleet-a-1', {
      location: 'westeurope',
      tags: { [CREATED_BY_TAG]: 'fleet-a' },
    });
    const p = provisioner();
    expect(await p.listCreated()).toEqual([{ name: 'fleet-a-1', provisioningState: 'Created' }]);
    const ensured = p.ensure('fleet-a-1', new AbortController().signal);
    setTimeout(open, 200);
    await ensured;
    expect(puts).toEqual(['fleet-a-1']);
    expect(await p.listCreated()).toEqual([{ name: 'fleet-a-1', provisioningState: 'Succeeded' }]);
    // The admin of the created namespace reaches its own data plane.
    expect(await p.adminOf('fleet-a-1').namespaceHost()).toBe(started[0]!.namespace);
    // Another fleet's controller does not see it as its own.
    expect(await provisioner('fleet-b').listCreated()).toEqual([]);
  });

  it('creates a namespace (PUT with the tag, polled to Succeeded) and provisions a failed one again', async () => {
    failNext = true;
    const p = provisioner();
    await expect(p.ensure('fleet-a-2', new AbortController().signal)).rejects.toMatchObject({
      code: 'CONTROLLER_ARM_FAILED',
      message: expect.stringMatching(/^create namespace fleet-a-2: /),
    });
    expect((await p.listCreated()).map((c) => [c.name, c.provisioningState])).toEqual([
      ['fleet-a-1', 'Succeeded'],
      ['fleet-a-2', 'Failed'],
    ]);
    await p.ensure('fleet-a-2', new AbortController().signal);
    expect((await p.listCreated()).map((c) => c.provisioningState)).toEqual(['Succeeded', 'Succeeded']);
    expect(puts).toEqual(['fleet-a-1', 'fleet-a-2', 'fleet-a-2']);
    // Ensuring a provisioned namespace changes nothing.
    await p.ensure('fleet-a-2', new AbortController().signal);
    expect(puts).toHaveLength(3);
  });

  it('stops waiting when its signal aborts', async () => {
    gate = new Promise((resolve) => (open = resolve));
    const stop = new AbortController();
    const waiting = provisioner().ensure('fleet-a-3', stop.signal);
    setTimeout(() => stop.abort(new Error('controller stopping')), 100);
    const err = await waiting.catch((e: unknown) => e);
    expect(isControllerError(err, 'CONTROLLER_STOPPED')).toBe(true);
    // The namespace goes on being created in ARM (nothing cancels it there); the next ensure finds it.
    open();
    await provisioner().ensure('fleet-a-3', new AbortController().signal);
  });
});
