// The whole sandbox fleet with Microsoft Entra ID (SANDBOX_RELAY_AUTH=entra): the relay refuses SAS, the controller
// writes `auth` entries and no token, and the module processes (children started by the edge-agent stand-in)
// authenticate with their own machine's managed identity through the unmodified @azure/identity: the location's
// forwarder holds Azure Relay Listener on its own hybrid connection only, the gateway Azure Relay Sender.
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

  it('boots a location to reachable through the gateway with managed identities only (sha256)', async () => {
    fleet = await startFleet({ stateDir, locations: ['quito'], relayAuth: 'entra' });
    const [location] = fleet.locations();
    const ports = Object.fromEntries(location!.rows.map((r) => [r.service, r.publicPort]));

    const payload = randomBytes(1024 * 1024);
    const echoed = await echoThrough(ports.echo!, payload);
    expect({ length: echoed.length, sha256: sha256(echoed) }).toEqual({
      length: payload.length,
      sha256: sha256(payload),
    });

    const { registry, relay } = fleet.infra;
    const forwarder = (await registry.getModuleTwin('quito', 'relay-forwarder'))
      .responseBody as unknown as Json;
    expect(forwarder.properties.desired.hybridConnections['hrf-quito']).toMatchObject({
      path: 'hrf-quito',
      auth: { type: 'entra' },
    });
    expect(forwarder.properties.desired.hybridConnections['hrf-quito'].sasToken).toBeUndefined();
    const gateway = (await registry.getModuleTwin('gateway-1', 'relay-gateway'))
      .responseBody as unknown as Json;
    expect(gateway.properties.desired.hybridConnections['hrf-quito']).toMatchObject({
      auth: { type: 'entra' },
    });
    // No SAS rule was made for the location, and the relay refused nothing on the way.
    expect(relay.listAuthorizationRules('hrf-quito').map((r) => r.name)).toEqual([]);
    const refused = relay.stats().counters.refusedByStatus;
    expect(Object.keys(refused).filter((k) => /:40[13]$/.test(k))).toEqual([]);

    // No access token in any log: the fleet's own, the edge agents' and every module process's.
    const files = (await readdir(fleet.logDir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    expect(files.some((f) => f.endsWith('relay-forwarder.log'))).toBe(true);
    for (const file of files)
      expect(await readFile(file, 'utf8')).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/);
  });
});
