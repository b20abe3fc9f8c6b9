// End to end with Microsoft Entra ID instead of SAS: the REAL forwarder (Azure Relay Listener on site-a) and gateway
// (Azure Relay Sender on site-a) get their tokens from the sandbox's managed identity endpoint through the
// unmodified @azure/identity ManagedIdentityCredential (IDENTITY_ENDPOINT/IDENTITY_HEADER), and the sandbox relay,
// with local (SAS) auth disabled, checks each token's signature, issuer, audience, expiry and role per entity.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { TunnelFailedEvent } from '../../modules/relay-gateway/src/events';
import {
  createSandboxEntraIssuer,
  startSandboxIdentityEndpoint,
  type SandboxEntraIssuer,
  type SandboxIdentity,
  type SandboxIdentityEndpoint,
} from '../../sandbox/src/entra';
import { trustEntraIssuer } from '../../sandbox/src/relay/entra-auth';
import { classicRoute } from '../support/classic-routes';
import { hashUntilEnd, writePattern } from '../support/e2e-streams';
import { SITE, startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { connectTcp } from '../support/tunnel-harness';

const MiB = 1024 * 1024;
// Short enough that several renewals happen during the file, long enough (renewal at 80 %) for a loaded machine.
const TOKEN_LIFETIME_MS = 10_000;

const FORWARDER: SandboxIdentity = {
  clientId: '0f0f0f0f-0000-4000-8000-00000000f0d0',
  roles: [{ role: 'Azure Relay Listener', entity: SITE }],
};
const GATEWAY: SandboxIdentity = {
  clientId: '0f0f0f0f-0000-4000-8000-00000000ca7e',
  roles: [{ role: 'Azure Relay Sender', entity: SITE }],
};
const ELSEWHERE: SandboxIdentity = {
  clientId: '0f0f0f0f-0000-4000-8000-0000000e15e0',
  roles: [{ role: 'Azure Relay Sender', entity: 'site-b' }],
};

// One tenant and one identity endpoint for the file: the modules' credentials are shared per process.
let issuer: SandboxEntraIssuer;
let identity: SandboxIdentityEndpoint;
const savedEnv = {
  IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
  IDENTITY_HEADER: process.env.IDENTITY_HEADER,
};

beforeAll(async () => {
  issuer = createSandboxEntraIssuer({
    tokenLifetimeMs: TOKEN_LIFETIME_MS,
    identities: [FORWARDER, GATEWAY, ELSEWHERE],
  });
  identity = await startSandboxIdentityEndpoint({ issuer });
  Object.assign(process.env, identity.environment());
});

afterAll(async () => {
  await identity?.stop();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('e2e with Microsoft Entra ID (managed identity via the unmodified @azure/identity)', () => {
  let world: E2eWorld;

  const entraEntry = (namespace: string, who: SandboxIdentity): Record<string, unknown> => ({
    namespace,
    path: SITE,
    auth: { type: 'entra', clientId: who.clientId },
  });
  const forwarderState = () => world.forwarder.forwarder.state().hybridConnections[SITE]!;

  async function echoThrough(size: number, seed: number): Promise<void> {
    const client = await connectTcp(world.port('echo'));
    const received = hashUntilEnd(client);
    const sent = await writePattern(client, size, seed, { end: true });
    expect(await received).toEqual({ sha256: sent, bytes: size });
  }

  beforeAll(async () => {
    world = await startE2eWorld({
      credentials: async (relay) => {
        // The SAS rules the world creates exist, but the namespace refuses SAS: only Entra ID gets through.
        trustEntraIssuer(relay.registry, { trust: issuer.trust, disableLocalAuth: true });
        return {
          forwarder: entraEntry(relay.namespace, FORWARDER),
          gateway: entraEntry(relay.namespace, GATEWAY),
        };
      },
    });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('carries 8 MiB each way, sha256-verified, with the listener and sender roles while SAS is disabled', async () => {
    expect(forwarderState()).toMatchObject({ listeners: 2, onlineListeners: 2 });
    await echoThrough(8 * MiB, 11);
    // Tokens came from the identity endpoint (the modules hold no SAS at all).
    expect(identity.issued).toBeGreaterThanOrEqual(2);
    expect(world.relay.stats().counters.refusedByStatus).toEqual({});
  });

  it('renews the listener token on the live control channels (renewToken), without a reconnect', async () => {
    const before = forwarderState();
    const relayBefore = world.relay.stats().counters;
    // Two renewals per channel: each one replaced a token that would otherwise have expired.
    await eventually(
      // Both counts: the forwarder counts a renewal when it sends it, the relay once it has checked it.
      () =>
        forwarderState().tokenRenewals >= before.tokenRenewals + 4 &&
        world.relay.stats().counters.tokenRenewals >= relayBefore.tokenRenewals + 4,
      'two renewals on each of the two control channels, taken by the relay',
      6 * TOKEN_LIFETIME_MS,
    );
    const after = forwarderState();
    expect(after.reconnects).toBe(before.reconnects);
    expect(after.onlineListeners).toBe(2);
    const relayAfter = world.relay.stats().counters;
    expect(relayAfter.tokenRenewals).toBeGreaterThanOrEqual(relayBefore.tokenRenewals + 4);
    expect(relayAfter.tokenRenewalsRefused).toBe(0);
    expect(relayAfter.tokenExpiryCloses).toBe(0);
    expect(relayAfter.listenersAccepted).toBe(relayBefore.listenersAccepted);
    // New sender connections use the current token, well past the first token's expiry.
    await echoThrough(MiB + 5, 12);
  });

  it('a gateway identity whose Sender role is on another hybrid connection is refused (403, forbidden)', async () => {
    const namespace = world.relay.namespace;
    const verdict = await world.rewriteGateway(
      withGatewayCredential(world, entraEntry(namespace, ELSEWHERE)),
    );
    expect(verdict).toHaveProperty('applied');
    const failed = once(world.gateway.gateway, 'tunnel-failed') as Promise<[TunnelFailedEvent]>;
    const client = await connectClient(world.port('echo'));
    client.socket.write('hello?');
    const end = await client.ended;
    expect(end.received.length).toBe(0);
    const [event] = await failed;
    expect(event).toMatchObject({ routeId: 'echo', reason: 'forbidden' });
    expect(world.relay.stats().counters.refusedByStatus['connect:403']).toBe(1);

    // The right identity again: tunnels flow at once.
    await world.rewriteGateway(withGatewayCredential(world, entraEntry(namespace, GATEWAY)));
    await echoThrough(64 * 1024, 13);
  });
});

function gatewayRoute(world: E2eWorld): Record<string, unknown> {
  // Every relay connection the relay counts is a client's own (a warm pool would add its refills to the 403s).
  return classicRoute({
    port: world.port('echo'),
    bindAddress: '127.0.0.1',
    hybridConnection: SITE,
    service: 'echo',
    allow: ['127.0.0.0/8'],
  });
}

// The gateway's current document with another credential for site-a (routes unchanged, so ports stay).
function withGatewayCredential(world: E2eWorld, entry: Record<string, unknown>): object {
  const doc = world.gatewayDocument({ echo: gatewayRoute(world) }) as {
    hybridConnections: Record<string, unknown>;
  };
  return { ...doc, hybridConnections: { [SITE]: entry } };
}

describe('e2e: switching a running forwarder and gateway from SAS to Entra ID', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startE2eWorld();
    // SAS still allowed: the namespace accepts both while the fleet moves over.
    trustEntraIssuer(world.relay.registry, { trust: issuer.trust });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('hands the JWT to the live control channels (renewToken) without a reconnect, and new tunnels use Entra ID', async () => {
    const hc = () => world.forwarder.forwarder.state().hybridConnections[SITE]!;
    const before = hc();
    const relayBefore = world.relay.stats().counters;
    const entry = (who: SandboxIdentity) => ({
      namespace: world.relay.namespace,
      path: SITE,
      auth: { type: 'entra', clientId: who.clientId },
    });
    const current = JSON.parse(await readFile(world.forwarderConfigPath, 'utf8')) as {
      hybridConnections: Record<string, Record<string, unknown>>;
    };
    // The same entry (listeners, services) with `auth` in place of the connection string.
    const rest = Object.fromEntries(
      Object.entries(current.hybridConnections[SITE]!).filter(([k]) => k !== 'connectionString'),
    );
    const verdict = await world.rewriteForwarder({
      ...current,
      hybridConnections: { [SITE]: { ...rest, ...entry(FORWARDER) } },
    });
    expect(verdict).toHaveProperty('applied');
    await eventually(
      () =>
        hc().tokenRenewals >= before.tokenRenewals + 2 &&
        world.relay.stats().counters.tokenRenewals >= relayBefore.tokenRenewals + 2,
      'the JWT to reach both control channels and be taken by the relay',
      20_000,
    );
    expect(hc()).toMatchObject({ reconnects: before.reconnects, onlineListeners: 2 });
    expect(world.relay.stats().counters.tokenRenewalsRefused).toBe(relayBefore.tokenRenewalsRefused);
    expect(world.relay.stats().counters.tokenRenewals).toBeGreaterThanOrEqual(relayBefore.tokenRenewals + 2);
    expect(world.relay.stats().counters.listenersAccepted).toBe(relayBefore.listenersAccepted);

    const gatewayDoc = JSON.parse(await readFile(world.gatewayConfigPath, 'utf8')) as Record<string, unknown>;
    const switched = await world.rewriteGateway({
      ...gatewayDoc,
      hybridConnections: { [SITE]: entry(GATEWAY) },
    });
    expect(switched).toHaveProperty('applied');
    const issuedBefore = identity.issued;
    const client = await connectTcp(world.port('echo'));
    const received = hashUntilEnd(client);
    const sent = await writePattern(client, MiB, 21, { end: true });
    expect(await received).toEqual({ sha256: sent, bytes: MiB });
    expect(identity.issued).toBeGreaterThan(issuedBefore);
  });
});
