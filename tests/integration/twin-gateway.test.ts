// relay-gateway configured by its module twin, end to end: the unmodified service SDK patches desired properties
// on the sandbox IoT Hub (TLS), the module (ModuleClient.fromEnvironment) applies them, real traffic flows through
// the sandbox relay to a twin-configured relay-forwarder and real TCP targets.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import type { JsonObject } from '../../modules/common/src/twin/json';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import { patternBytes } from '../support/tunnel-harness';
import {
  delay,
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

describe('relay-gateway configured by its module twin', () => {
  let world: TwinWorld;
  let forwarder: ForwarderTwinApp;
  let gateway: GatewayTwinApp;
  /** Ports of the routes every test may use: r0 → echo, bulk → sink. */
  let r0Port: number;
  let bulkPort: number;

  beforeAll(async () => {
    world = await startTwinWorld();
    [r0Port, bulkPort] = (await freePorts(2)) as [number, number];
    await world.patchDesired(
      FORWARDER,
      forwarderDesired(world, { echo: world.echo.port, sink: world.sink.port }),
    );
    forwarder = world.startForwarder();
    gateway = await world.startGateway();
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'listening',
      'forwarder listening',
    );
    await world.patchDesired(
      GATEWAY,
      gatewayDesired(world, { r0: route(r0Port, 'echo'), bulk: route(bulkPort, 'sink') }),
    );
    await waitForTraffic(r0Port);
    await world.waitSubscribed(GATEWAY);
  });
  afterAll(() => world?.close());

  it('applies a desired patch that adds a route: traffic flows through it (patch-to-traffic delay printed)', async () => {
    const ports = await freePorts(20);
    const delaysMs: number[] = [];
    const appliedMs: number[] = [];
    let appliedAt = 0;
    const onApplied = (): void => void (appliedAt = Date.now());
    gateway.runner.on('applied', onApplied);
    for (const [i, port] of ports.entries()) {
      const startedAt = Date.now();
      // A merge patch: only the new route, every other route stays as it is.
      await world.patchDesired(GATEWAY, { routes: { [`added${i}`]: route(port, 'echo') } });
      await waitForTraffic(port, 5_000);
      delaysMs.push(Date.now() - startedAt);
      appliedMs.push(appliedAt - startedAt);
    }
    gateway.runner.off('applied', onApplied);
    process.stdout.write(
      `patch-to-traffic delay over 20 patches: ${summarize(delaysMs)}; of which patch-to-applied: ${summarize(appliedMs)}\n`,
    );
    expect(delaysMs).toHaveLength(20);

    const reported = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.routes?.added19?.status === 'listening',
      'added routes listening',
    )) as Reported;
    const { desired } = await world.moduleTwin(GATEWAY);
    expect(reported.config).toMatchObject({ status: 'applied', version: desired.$version });
    for (let i = 0; i < 20; i++) expect(reported.routes[`added${i}`]).toMatchObject({ status: 'listening' });
    expect(await echoOnce(r0Port)).toBe(true);

    // Remove them again (null deletes a key in a twin patch): their ports close, and the report drops them.
    const removal: JsonObject = {};
    for (let i = 0; i < 20; i++) removal[`added${i}`] = null;
    await world.patchDesired(GATEWAY, { routes: removal });
    await world.waitReported(GATEWAY, (r: Reported) => r.routes?.added0 === undefined, 'removed routes gone');
    expect(await echoOnce(ports[0]!)).toBe(false);
  });

  it('changing one route leaves an ongoing transfer on another intact (sha256)', async () => {
    const data = patternBytes(12 * 1024 * 1024, 7);
    const socket = net.connect({ port: bulkPort, host: '127.0.0.1', allowHalfOpen: true });
    const answer = new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const chunkBytes = 256 * 1024;
    let offset = 0;
    const writeSome = async (count: number): Promise<void> => {
      for (let i = 0; i < count && offset < data.length; i++, offset += chunkBytes) {
        if (!socket.write(data.subarray(offset, offset + chunkBytes)))
          await new Promise((resolve) => socket.once('drain', resolve));
        await delay(2);
      }
    };
    await writeSome(16);
    const [movedPort] = await freePorts(1);
    // Change r0 (port, allow-list, timeouts), add one route and remove another while bytes flow on `bulk`.
    await world.patchDesired(GATEWAY, {
      routes: {
        r0: route(movedPort!, 'echo', { allow: ['127.0.0.1/32'], idleTimeoutMs: 60_000 }),
        extra: route(0, 'echo'),
      },
    });
    await waitForTraffic(movedPort!);
    await writeSome(16);
    await world.patchDesired(GATEWAY, { routes: { extra: null } });
    await writeSome(Number.MAX_SAFE_INTEGER);
    socket.end();
    expect(await answer).toBe(createHash('sha256').update(data).digest('hex'));

    const state = gateway.gateway.state().routes.bulk!;
    expect(state.counters.broken).toEqual({});
    expect(state.counters.tunneled).toBeGreaterThanOrEqual(1);
    r0Port = movedPort!;
  });

  it('refuses an invalid patch with every problem path in reported properties; the old routes keep working', async () => {
    const before = (await world.settled(GATEWAY)) as Reported;
    const goodVersion = before.config.version as number;
    await world.patchDesired(GATEWAY, {
      routes: {
        bad: { port: 'not-a-port', hybridConnection: 'nowhere', service: 'echo', allow: ['127.0.0.0/8'] },
        r0: { allow: ['10.0.0.1/8'] },
      },
    });
    const reported = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.config?.status === 'refused',
      'the refusal',
    )) as Reported;
    const { desired } = await world.moduleTwin(GATEWAY);
    expect(reported.config.version).toBe(goodVersion);
    expect(reported.config.refused.version).toBe(desired.$version);
    const paths = (reported.config.refused.problems as { path: string; message: string }[]).map(
      (p) => p.path,
    );
    expect(paths).toEqual(expect.arrayContaining(['/routes/bad/port', '/routes/r0/allow/0']));
    expect(reported.config.refused.problemCount).toBeGreaterThanOrEqual(2);
    expect(reported.routes.bad).toBeUndefined();
    // The last good configuration keeps running.
    expect(await echoOnce(r0Port)).toBe(true);
    expect(gateway.runner.configStatus.appliedVersion).toBe(goodVersion);

    // A corrected patch is applied and clears the refusal.
    await world.patchDesired(GATEWAY, { routes: { bad: null, r0: { allow: ['127.0.0.0/8'] } } });
    const fixed = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.config?.status === 'applied' && r.config.version > goodVersion,
      'the corrected version',
    )) as Reported;
    expect(fixed.config.refused).toBeUndefined();
    expect(await echoOnce(r0Port)).toBe(true);
  });

  it('getStatus tells the live picture; drain stops accepting and lets an open connection finish; resume reopens', async () => {
    const status = await world.invoke(GATEWAY, 'getStatus');
    expect(status.status).toBe(200);
    const payload = status.payload as Reported;
    expect(payload.module).toMatchObject({ name: 'relay-gateway', deviceId: GATEWAY.deviceId });
    expect(payload.config.status).toBe('applied');
    expect(payload.routes.bulk).toMatchObject({
      status: 'listening',
      service: 'sink',
      hybridConnection: 'site-a',
    });
    expect(payload.iotHub).toMatchObject({ connected: true });

    // An open connection on `bulk`, mid-transfer.
    const data = patternBytes(64 * 1024, 3);
    const socket = net.connect({ port: bulkPort, host: '127.0.0.1', allowHalfOpen: true });
    const answer = new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    socket.write(data.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const drained = await world.invoke(GATEWAY, 'drain', { route: 'bulk' });
    expect(drained.status).toBe(200);
    expect(drained.payload).toMatchObject({
      draining: ['bulk'],
      routes: { bulk: { status: 'draining', active: 1 } },
    });
    // New clients are no longer accepted; the other routes are untouched.
    expect(await echoOnce(bulkPort)).toBe(false);
    expect(await echoOnce(r0Port)).toBe(true);
    await world.waitReported(
      GATEWAY,
      (r: Reported) => r.routes?.bulk?.status === 'draining',
      'bulk draining',
    );
    // A desired patch meanwhile does not reopen a drained route.
    await world.patchDesired(GATEWAY, { routes: { bulk: { maxConnections: 50 } } });
    expect(((await world.settled(GATEWAY)) as Reported).config.status).toBe('applied');
    expect(await echoOnce(bulkPort)).toBe(false);

    // The open connection finishes.
    socket.end(data.subarray(1000));
    expect(await answer).toBe(createHash('sha256').update(data).digest('hex'));
    await world.waitReported(GATEWAY, (r: Reported) => r.routes?.bulk?.status === 'drained', 'bulk drained');

    const unknown = await world.invoke(GATEWAY, 'drain', { route: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.payload).toMatchObject({ error: { code: 'UNKNOWN_ROUTE' } });
    expect((await world.invoke(GATEWAY, 'drain', { route: 7 })).status).toBe(400);

    const resumed = await world.invoke(GATEWAY, 'resume', { route: 'bulk' });
    expect(resumed.status).toBe(200);
    expect(resumed.payload).toMatchObject({ resumed: ['bulk'], routes: { bulk: { status: 'listening' } } });
    await world.waitReported(
      GATEWAY,
      (r: Reported) => r.routes?.bulk?.status === 'listening',
      'bulk listening',
    );
    const again = net.connect({ port: bulkPort, host: '127.0.0.1', allowHalfOpen: true });
    const hash = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      again.on('data', (c: Buffer) => chunks.push(c));
      again.on('end', () => resolve(Buffer.concat(chunks).toString()));
      again.on('error', reject);
      again.end('after resume');
    });
    expect(hash).toBe(createHash('sha256').update('after resume').digest('hex'));
  });

  it('coalesces reported properties: many connections do not cause a patch each', async () => {
    await delay(200);
    let patches = 0;
    const unsubscribe = world.hub.onChange((event) => {
      if (event.type === 'reported' && event.identity.moduleId === GATEWAY.moduleId) patches += 1;
    });
    const connections = 40;
    for (let i = 0; i < connections; i++) expect(await echoOnce(r0Port, `c${i}`)).toBe(true);
    await delay(300);
    unsubscribe();
    expect(patches).toBeLessThanOrEqual(2);
    // The counters are still there: a flush (the periodic refresh in production) carries them in one patch.
    await gateway.runner.writer.flush();
    const reported = (await world.moduleTwin(GATEWAY)).reported as Reported;
    expect(reported.routes.r0.counters.tunneled).toBeGreaterThanOrEqual(connections);
  });

  it('sends stats on the `stats` output with route and location identifiers', async () => {
    await gateway.runner.statsSender.sendNow();
    const message = await world.hub.waitForMessage(
      (m) => m.deviceId === GATEWAY.deviceId && m.moduleId === GATEWAY.moduleId && m.outputName === 'stats',
      5_000,
    );
    expect(message.properties).toMatchObject({ messageType: 'stats' });
    const body = JSON.parse(Buffer.from(message.body as Buffer).toString('utf8')) as Reported;
    expect(body).toMatchObject({ module: 'relay-gateway', deviceId: GATEWAY.deviceId, part: 1, parts: 1 });
    const entry = (body.entries as Reported[]).find((e) => e.route === 'bulk');
    expect(entry).toMatchObject({
      hybridConnection: 'site-a',
      location: 'site-a',
      service: 'sink',
      status: 'listening',
    });
  });

  it('never puts a secret in reported properties, method answers or stats', async () => {
    await forwarder.runner.statsSender.sendNow();
    await gateway.runner.statsSender.sendNow();
    await gateway.runner.writer.flush();
    await forwarder.runner.writer.flush();
    const texts = [
      JSON.stringify((await world.moduleTwin(GATEWAY)).reported),
      JSON.stringify((await world.moduleTwin(FORWARDER)).reported),
      JSON.stringify(await world.invoke(GATEWAY, 'getStatus')),
      JSON.stringify(await world.invoke(FORWARDER, 'getStatus')),
      ...world
        .messages((m) => m.outputName === 'stats')
        .map((m) => Buffer.from(m.body as Buffer).toString('utf8')),
    ];
    expect(texts.length).toBeGreaterThanOrEqual(6);
    const secrets = [
      ...keysOf(world.listenConnectionString),
      ...keysOf(world.sendConnectionString),
      ...keysOf(world.hub.moduleConnectionString(GATEWAY.deviceId, GATEWAY.moduleId)),
      ...keysOf(world.hub.moduleConnectionString(FORWARDER.deviceId, FORWARDER.moduleId)),
    ];
    expect(secrets.length).toBe(4);
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/SharedAccessKey=|SharedAccessSignature|sig=/i);
    }
  });
});

function summarize(valuesMs: readonly number[]): string {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return `median ${median} ms, min ${sorted[0]} ms, max ${sorted[sorted.length - 1]} ms`;
}

function keysOf(connectionString: string): string[] {
  const key = /SharedAccessKey=([^;]+)/.exec(connectionString)?.[1];
  return key ? [key] : [];
}
