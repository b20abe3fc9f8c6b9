// End to end: both modules re-apply their configuration files while traffic flows. Changes touch only what
// differs; a transfer on an untouched route continues intact; invalid documents are refused with every reason
// and the last good configuration keeps running.
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import { sha256Of } from '../support/e2e-targets';
import { writePattern } from '../support/e2e-streams';
import { e2eRoute, SITE, startE2eWorld, type E2eTargets, type E2eWorld } from '../support/e2e-world';
import { connectClient, type TestClient } from '../support/relay-gateway-harness';

const MiB = 1024 * 1024;

describe('e2e configuration changes (real gateway and forwarder, files re-applied)', () => {
  let world: E2eWorld;

  const at = (port: number): { target: string } => ({ target: `127.0.0.1:${port}` });
  const baseServices = (t: E2eTargets): Record<string, unknown> => ({
    sink: at(t.sink.port),
    echo: at(t.echo.port),
    svc: at(t.echo.port),
  });
  const baseRoutes = { transfer: e2eRoute('sink'), gone: e2eRoute('echo'), svc: e2eRoute('svc') };

  beforeEach(async () => {
    world = await startE2eWorld({ services: baseServices, routes: baseRoutes });
  });

  afterEach(async () => {
    await world?.close();
  });

  async function roundTrip(routeId: string, text: string): Promise<{ received: string; errorCode?: string }> {
    const client = await connectClient(world.port(routeId));
    client.socket.end(text);
    const end = await client.ended;
    return { received: end.received.toString(), ...(end.errorCode && { errorCode: end.errorCode }) };
  }

  function get(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
        })
        .on('error', reject);
    });
  }

  it('adds a route, removes one and changes a target while a transfer on an untouched route continues (sha256)', async () => {
    const t = world.targets;
    const gonePort = world.port('gone');
    const transfer: TestClient = await connectClient(world.port('transfer'));
    const sent = createHash('sha256');
    await writePattern(transfer.socket, 12 * MiB, 21, { hash: sent });
    expect(await roundTrip('svc', 'before')).toEqual({ received: 'before' });

    // Forwarder: a new service `web`, and `svc` now points at the sha256 sink instead of the echo.
    const forwarderVerdict = await world.rewriteForwarder(
      world.forwarderDocument({ ...baseServices(t), svc: at(t.sink.port), web: at(t.http.port) }),
    );
    expect(forwarderVerdict).toEqual({
      applied: { added: [], removed: [], changed: [SITE], unchanged: [] },
    });
    // Gateway: route `web` added, route `gone` removed; `transfer` and `svc` untouched.
    const gatewayVerdict = await world.rewriteGateway(
      world.gatewayDocument({ transfer: baseRoutes.transfer, svc: baseRoutes.svc, web: e2eRoute('web') }),
    );
    expect(gatewayVerdict).toMatchObject({
      applied: {
        diff: { routesAdded: ['web'], routesRemoved: ['gone'], routesUnchanged: ['svc', 'transfer'] },
        refusedRoutes: [],
      },
    });

    expect(await get(world.port('web'))).toMatch(new RegExp(`^200 [^]*Hello from ${SITE} / web`));
    expect(await roundTrip('svc', 'after')).toEqual({ received: sha256Of('after') });
    const gone = await connectClient(gonePort);
    expect((await gone.ended).errorCode).toBe('ECONNREFUSED');

    // The transfer on the untouched route kept its tunnel through both changes.
    await writePattern(transfer.socket, 12 * MiB, 22, { hash: sent, end: true });
    const end = await transfer.ended;
    expect(end.errorCode).toBeUndefined();
    expect(end.received.toString()).toBe(sent.digest('hex'));
    const counters = world.gateway.gateway.state().routes.transfer!.counters;
    expect(counters).toMatchObject({ tunneled: 1, broken: {}, bytesFromClients: 24 * MiB });
  });

  it('refuses invalid documents with every reason and keeps the last good configuration running', async () => {
    const gateway = world.gateway.gateway;
    // Gateway: two problems in one document, both reported with their JSON pointer.
    const refused = await world.rewriteGateway(
      world.gatewayDocument({
        transfer: baseRoutes.transfer,
        svc: e2eRoute('svc', { allow: ['10.0.0.1/8'] }),
        web: e2eRoute('web', { hybridConnection: 'nope' }),
      }),
    );
    expect(refused).toEqual({
      rejected: expect.arrayContaining([
        expect.objectContaining({
          path: '/routes/svc/allow/0',
          message: expect.stringContaining('10.0.0.0/8'),
        }),
        expect.objectContaining({
          path: '/routes/web/hybridConnection',
          message: expect.stringContaining('nope'),
        }),
      ]),
    });
    expect(gateway.state().lastRejection?.problems).toHaveLength(2);
    expect(Object.keys(gateway.state().routes).sort()).toEqual(['gone', 'svc', 'transfer']);
    expect(await roundTrip('svc', 'still')).toEqual({ received: 'still' });

    // A file that is not JSON at all: refused with the position, nothing changes.
    const broken = await world.rewriteGateway('{ "schemaVersion": 1,, }');
    expect(broken).toEqual({
      rejected: [expect.objectContaining({ message: expect.stringMatching(/line 1/) })],
    });
    expect(await roundTrip('gone', 'still here')).toEqual({ received: 'still here' });

    // Forwarder: a bad target is refused with its path, the running services keep serving.
    const t = world.targets;
    const forwarderRefused = await world.rewriteForwarder(
      world.forwarderDocument({ ...baseServices(t), svc: { target: 'no-port-here' } }),
    );
    expect(forwarderRefused).toEqual({
      rejected: [expect.objectContaining({ path: `/hybridConnections/${SITE}/services/svc/target` })],
    });
    expect(await roundTrip('svc', 'echoed')).toEqual({ received: 'echoed' });

    // A good document again clears the rejection.
    const good = await world.rewriteGateway(world.gatewayDocument(baseRoutes));
    expect(good).toHaveProperty('applied');
    expect(gateway.state().lastRejection).toBeUndefined();
  });
});
