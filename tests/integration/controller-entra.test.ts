// The fleet controller in Entra ID mode (--relay-auth entra) against the sandbox IoT Hub and Relay ARM API with
// the unmodified SDKs: it creates each location's hybrid connection without SAS rules and writes `auth` entries
// (the modules' own identities) instead of tokens; switching a running fleet from SAS removes every token.
import { normalizeForwarderConfig } from '../../modules/relay-forwarder/src/config/normalize';
import { normalizeGatewayConfig } from '../../modules/relay-gateway/src/config/normalize';
import type { JsonObject } from '../../cloud/src/model/json';
import { startControllerWorld, type ControllerWorld } from '../support/controller-world';

const entryOf = (doc: JsonObject, hc: string): JsonObject =>
  (doc.hybridConnections as Record<string, JsonObject>)[hc]!;

describe('fleet controller with Microsoft Entra ID for the modules', () => {
  let world: ControllerWorld;

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
  });

  afterAll(async () => {
    await world.close();
  });

  async function ruleNames(hc: string): Promise<string[]> {
    const names: string[] = [];
    for await (const r of world.relayApi.hybridConnections.listAuthorizationRules(
      world.arm.resourceGroup,
      world.arm.namespaceName,
      hc,
    ))
      names.push(r.name!);
    return names.sort();
  }

  it('writes auth {type: entra} entries both modules accept, and creates no SAS rule', async () => {
    await world.addLocation('oslo', { sql: '10.0.0.5:1433' });
    const controller = world.startController({
      relayAuth: { type: 'entra', gatewayClientId: 'gw-identity' },
    });
    expect(await controller.reconcileNow()).toMatchObject({ outcome: 'converged', actionsFailed: 0 });

    const forwarder = await world.desired('oslo', 'relay-forwarder');
    expect(entryOf(forwarder, 'hrf-oslo')).toEqual({
      namespace: world.relay.namespace,
      path: 'hrf-oslo',
      auth: { type: 'entra' },
      services: { sql: { target: '10.0.0.5:1433' } },
    });
    const fwd = normalizeForwarderConfig(forwarder);
    expect(fwd.ok && fwd.value.hybridConnections.get('hrf-oslo')!.credential).toEqual({ kind: 'entra' });

    const gateway = await world.desired('gw-1', 'relay-gateway');
    expect(entryOf(gateway, 'hrf-oslo')).toEqual({
      namespace: world.relay.namespace,
      path: 'hrf-oslo',
      auth: { type: 'entra', clientId: 'gw-identity' },
    });
    expect(normalizeGatewayConfig(gateway).ok).toBe(true);
    expect(Object.keys(gateway.routes as JsonObject)).toEqual(['oslo_sql']);

    expect(await world.hybridConnectionNames()).toContain('hrf-oslo');
    expect(await ruleNames('hrf-oslo')).toEqual([]);
    // Nothing to renew: a second pass writes nothing and schedules no renewal.
    const again = await controller.reconcileNow();
    expect(again).toMatchObject({ outcome: 'converged', actionsDone: 0 });
    expect(again.nextRenewalAtMs).toBeUndefined();
    await controller.stop();
  });

  it('switching a SAS fleet to Entra ID replaces every token with auth', async () => {
    await world.addLocation('lima', { web: '10.0.0.9:80' });
    const sas = world.startController({});
    expect(await sas.reconcileNow()).toMatchObject({ outcome: 'converged' });
    expect(entryOf(await world.desired('lima', 'relay-forwarder'), 'hrf-lima').sasToken).toEqual(
      expect.stringMatching(/^SharedAccessSignature /),
    );
    await sas.stop();

    const entra = world.startController({ relayAuth: { type: 'entra' } });
    expect(await entra.reconcileNow()).toMatchObject({ outcome: 'converged', actionsFailed: 0 });
    const forwarder = entryOf(await world.desired('lima', 'relay-forwarder'), 'hrf-lima');
    expect(forwarder.sasToken).toBeUndefined();
    expect(forwarder.auth).toEqual({ type: 'entra' });
    const gateway = await world.desired('gw-1', 'relay-gateway');
    for (const hc of ['hrf-lima', 'hrf-oslo']) {
      expect(entryOf(gateway, hc).sasToken).toBeUndefined();
      expect(entryOf(gateway, hc).auth).toEqual({ type: 'entra' });
    }
    await entra.stop();
  });
});
