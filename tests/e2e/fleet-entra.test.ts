// The whole sandbox fleet with Microsoft Entra ID (SANDBOX_RELAY_AUTH=entra) over two Relay namespaces
// (SANDBOX_RELAY_NAMESPACES=2): both relays trust the one sandbox issuer and refuse SAS, the controller writes
// `auth` entries and no token, and the module processes (children started by the edge-agent stand-in)
// authenticate with their own machine's managed identity through the unmodified @azure/identity: each location's
// forwarder holds Azure Relay Listener on its own hybrid connection only, the gateway Azure Relay Sender, at
// whichever namespace the location was placed in.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../../sandbox/src/fleet/world';
import { echoThrough } from '../support/echo-client';
import { sha256 } from '../support/tunnel-harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the sandbox fleet on Microsoft Entra ID (SAS disabled)', () => {
  let stateDir: string;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-fleet-entra-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('boots a location in each of two namespaces to reachable through the gateway with managed identities only (sha256)', async () => {
    fleet = await startFleet({
      stateDir,
      locations: ['quito', 'lima'],
      relayAuth: 'entra',
      relayNamespaces: 2,
    });
    const { registry, relay, extraRelays } = fleet.infra;
    const relayOf: Record<string, typeof relay> = {
      'sandbox-relay': relay,
      'sandbox-relay-2': extraRelays[0]!,
    };
    const gateway = (await registry.getModuleTwin('gateway-1', 'relay-gateway'))
      .responseBody as unknown as Json;
    const placed: string[] = [];
    for (const location of fleet.locations()) {
      const hc = `hrf-${location.name}`;
      const ports = Object.fromEntries(location.rows.map((r) => [r.service, r.publicPort]));
      const payload = randomBytes(1024 * 1024);
      const echoed = await echoThrough(ports.echo!, payload);
      expect({ location: location.name, length: echoed.length, sha256: sha256(echoed) }).toEqual({
        location: location.name,
        length: payload.length,
        sha256: sha256(payload),
      });

      const tags = ((await registry.getTwin(location.deviceId)).responseBody as unknown as Json).tags;
      const namespace = tags.relayStatus.namespace as string;
      placed.push(namespace);
      const host = relayOf[namespace]!.namespace;
      const forwarder = (await registry.getModuleTwin(location.deviceId, 'relay-forwarder'))
        .responseBody as unknown as Json;
      expect(forwarder.properties.desired.hybridConnections[hc]).toMatchObject({
        namespace: host,
        path: hc,
        auth: { type: 'entra' },
      });
      expect(forwarder.properties.desired.hybridConnections[hc].sasToken).toBeUndefined();
      expect(gateway.properties.desired.hybridConnections[hc]).toMatchObject({
        namespace: host,
        auth: { type: 'entra' },
      });
      // No SAS rule was made for the location in its namespace.
      expect(relayOf[namespace]!.listAuthorizationRules(hc).map((r) => r.name)).toEqual([]);
    }
    // One location in each namespace, and neither relay refused anything on the way.
    expect(placed.sort()).toEqual(['sandbox-relay', 'sandbox-relay-2']);
    for (const r of [relay, ...extraRelays]) {
      const refused = r.stats().counters.refusedByStatus;
      expect(Object.keys(refused).filter((k) => /:40[13]$/.test(k))).toEqual([]);
      expect(r.stats().counters.listenersAccepted).toBeGreaterThan(0);
    }

    // No access token in any log: the fleet's own, the edge agents' and every module process's.
    const files = (await readdir(fleet.logDir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    expect(files.some((f) => f.endsWith('relay-forwarder.log'))).toBe(true);
    for (const file of files)
      expect(await readFile(file, 'utf8')).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/);
  });
});
