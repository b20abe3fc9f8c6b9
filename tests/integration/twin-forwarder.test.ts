// relay-forwarder configured by its module twin: services and hybrid connections from desired properties, listener
// state in reported properties, drain/resume of a hybrid connection or one service, with real traffic through a
// twin-configured relay-gateway and the sandbox relay.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import { patternBytes } from '../support/tunnel-harness';
import {
  echoOnce,
  FORWARDER,
  forwarderDesired,
  freePorts,
  GATEWAY,
  gatewayDesired,
  route,
  startTwinWorld,
  waitForTraffic,
  type TwinWorld,
} from '../support/twin-world';

/** Reported properties read as plain JSON (tests index into them freely). */
type Reported = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('relay-forwarder configured by its module twin', () => {
  let world: TwinWorld;
  let forwarder: ForwarderTwinApp;
  let echoPort: number;
  let sinkPort: number;
  let laterPort: number;

  beforeAll(async () => {
    world = await startTwinWorld();
    [echoPort, sinkPort, laterPort] = (await freePorts(3)) as [number, number, number];
    await world.patchDesired(
      FORWARDER,
      forwarderDesired(world, { echo: world.echo.port, sink: world.sink.port }),
    );
    await world.patchDesired(
      GATEWAY,
      gatewayDesired(world, {
        echo: route(echoPort, 'echo'),
        sink: route(sinkPort, 'sink'),
        later: route(laterPort, 'later'),
      }),
    );
    forwarder = world.startForwarder();
    await world.startGateway();
    await waitForTraffic(echoPort);
    await world.waitSubscribed(FORWARDER);
  });
  afterAll(() => world?.close());

  it('reports its hybrid connections (listeners online of N) and applies a patch that adds a service', async () => {
    const reported = (await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'listening',
      'site-a listening',
    )) as Reported;
    expect(reported.module).toMatchObject({ name: 'relay-forwarder', deviceId: FORWARDER.deviceId });
    expect(reported.hybridConnections['site-a']).toMatchObject({
      onlineListeners: 1,
      listeners: 1,
      path: 'site-a',
      services: { echo: { status: 'enabled', target: `127.0.0.1:${world.echo.port}` } },
    });
    expect(await echoOnce(laterPort)).toBe(false); // unknown service: the gateway's client is reset

    await world.patchDesired(FORWARDER, {
      hybridConnections: {
        'site-a': { listeners: 2, services: { later: { target: `127.0.0.1:${world.echo.port}` } } },
      },
    });
    await waitForTraffic(laterPort);
    const after = (await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.onlineListeners === 2,
      'two listeners online',
    )) as Reported;
    expect(after.hybridConnections['site-a']).toMatchObject({ status: 'listening', listeners: 2 });
    expect(after.hybridConnections['site-a'].services.later).toMatchObject({ status: 'enabled' });
    expect(after.config.version).toBe((await world.moduleTwin(FORWARDER)).desired.$version);
  });

  it('refuses an invalid patch with its problem paths and keeps serving the old services', async () => {
    const goodVersion = ((await world.settled(FORWARDER)) as Reported).config.version as number;
    await world.patchDesired(FORWARDER, {
      hybridConnections: { 'site-a': { listeners: 99, services: { bad: { target: 'no-port-here' } } } },
    });
    const reported = (await world.waitReported(
      FORWARDER,
      (r: Reported) => r.config?.status === 'refused',
      'the refusal',
    )) as Reported;
    const paths = (reported.config.refused.problems as { path: string }[]).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/hybridConnections/site-a/listeners',
        '/hybridConnections/site-a/services/bad/target',
      ]),
    );
    expect(reported.config.version).toBe(goodVersion);
    expect(await echoOnce(echoPort)).toBe(true);
    expect(await echoOnce(laterPort)).toBe(true);

    await world.patchDesired(FORWARDER, {
      hybridConnections: { 'site-a': { listeners: 1, services: { bad: null } } },
    });
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.config?.status === 'applied' && r.config.version > goodVersion,
      'the corrected version',
    );
  });

  it('reports a hybrid connection the relay refuses, with the reason', async () => {
    world.relay.createHybridConnection('site-b');
    const rule = world.relay.createAuthorizationRule('site-b', 'listen', ['Listen']);
    const wrongKey = rule.primaryConnectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${'A'.repeat(44)}`,
    );
    await world.patchDesired(FORWARDER, {
      hybridConnections: {
        'site-b': { connectionString: wrongKey, listeners: 1, services: { x: { target: '127.0.0.1:1' } } },
      },
    });
    const reported = (await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-b']?.status === 'refused',
      'site-b refused',
    )) as Reported;
    expect(reported.hybridConnections['site-b'].reason).toMatchObject({ code: 'RELAY_UNAUTHORIZED' });
    expect(JSON.stringify(reported)).not.toContain('A'.repeat(44));
    expect(await echoOnce(echoPort)).toBe(true);
    await world.patchDesired(FORWARDER, { hybridConnections: { 'site-b': null } });
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-b'] === undefined,
      'site-b gone',
    );
  });

  it('drains a hybrid connection (control channels close, a live tunnel finishes) and resumes it', async () => {
    const data = patternBytes(256 * 1024, 11);
    const socket = net.connect({ port: sinkPort, host: '127.0.0.1', allowHalfOpen: true });
    const answer = new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    socket.write(data.subarray(0, 4096));
    // This client's own tunnel (to `sink`), not any tunnel of site-a: an earlier case's echo may still be closing.
    await waitUntil(
      () => (forwarder.forwarder.state().hybridConnections['site-a']?.services.sink?.active ?? 0) > 0,
    );

    const drained = await world.invoke(FORWARDER, 'drain', { hybridConnection: 'site-a' });
    expect(drained.status).toBe(200);
    expect(drained.payload).toMatchObject({ draining: { hybridConnections: ['site-a'] } });
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'draining',
      'site-a draining',
    );
    // No listener any more: new connections fail at the relay; the live tunnel keeps going.
    expect(await echoOnce(echoPort)).toBe(false);
    socket.end(data.subarray(4096));
    expect(await answer).toBe(createHash('sha256').update(data).digest('hex'));
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'drained',
      'site-a drained',
    );

    expect((await world.invoke(FORWARDER, 'drain', { hybridConnection: 'nope' })).status).toBe(404);
    const resumed = await world.invoke(FORWARDER, 'resume', { hybridConnection: 'site-a' });
    expect(resumed.status).toBe(200);
    await waitForTraffic(echoPort);
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'listening',
      'site-a listening again',
    );
  });

  it('drains and resumes a single service; getStatus shows it live', async () => {
    const drained = await world.invoke(FORWARDER, 'drain', { hybridConnection: 'site-a', service: 'echo' });
    expect(drained.status).toBe(200);
    expect(await echoOnce(echoPort)).toBe(false);
    expect(await echoOnce(laterPort)).toBe(true);
    const status = await world.invoke(FORWARDER, 'getStatus');
    expect(status.status).toBe(200);
    expect((status.payload as Reported).hybridConnections['site-a'].services.echo.status).toBe('drained');
    expect((status.payload as Reported).iotHub).toMatchObject({ connected: true, sessions: 1 });
    expect(
      (await world.invoke(FORWARDER, 'drain', { hybridConnection: 'site-a', service: 'nope' })).payload,
    ).toMatchObject({ error: { code: 'UNKNOWN_SERVICE' } });

    expect((await world.invoke(FORWARDER, 'resume', {})).status).toBe(200);
    await waitForTraffic(echoPort);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
