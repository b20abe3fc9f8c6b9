// End to end through the real modules: client → relay-gateway → sandbox relay (TLS) → relay-forwarder → target.
// Every byte is checked by sha256; nothing in the path is a test double.
// azbridge interop (a plain client writing the preamble bytes by hand, whole and split across frames, against the
// real forwarder) is in tests/integration/relay-forwarder.test.ts; it is not repeated here.
import * as http from 'node:http';
import * as net from 'node:net';
import { hashUntilEnd, writePattern } from '../support/e2e-streams';
import { sha256Of } from '../support/e2e-targets';
import { startE2eWorld, SITE, type E2eWorld } from '../support/e2e-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { connectTcp, patternBytes, sha256 } from '../support/tunnel-harness';

const MiB = 1024 * 1024;

describe('e2e data path (real gateway and forwarder, sandbox relay over TLS)', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startE2eWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  const routeCounters = (id: string) => world.gateway.gateway.state().routes[id]!.counters;
  const serviceStats = (name: string) =>
    world.forwarder.forwarder.state().hybridConnections[SITE]!.services[name]!;

  it('carries 64 MiB each way at once through one connection (sha256 equal both ways)', async () => {
    const size = 64 * MiB;
    const client = await connectTcp(world.port('echo'));
    const received = hashUntilEnd(client);
    const sent = await writePattern(client, size, 64, { end: true });
    const echoed = await received;
    expect(echoed).toEqual({ sha256: sent, bytes: size });
    await eventually(() => routeCounters('echo').active === 0, 'the echo tunnel to close', 10_000);
    expect(routeCounters('echo')).toMatchObject({ bytesFromClients: size, bytesToClients: size, broken: {} });
    expect(serviceStats('echo')).toMatchObject({ bytesToTarget: size, bytesFromTarget: size });
  });

  it('carries 200 concurrent connections of mixed sizes, each verified by sha256', async () => {
    const sizes = [0, 1, 7, 1024, 64 * 1024 - 1, 64 * 1024 + 1, 300 * 1024, MiB + 3];
    const before = { echo: routeCounters('echo').tunneled, sink: routeCounters('sink').tunneled };
    const runs = Array.from({ length: 200 }, async (_, i) => {
      const size = sizes[i % sizes.length]!;
      const payload = patternBytes(size, 1000 + i);
      // Half go to the echo (bytes come back), half to the sha256 sink (the target's own hash comes back).
      const viaSink = i % 2 === 1;
      const client = await connectTcp(world.port(viaSink ? 'sink' : 'echo'));
      const reply = hashUntilEnd(client);
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      client.end(payload);
      const end = await reply;
      const answer = Buffer.concat(chunks);
      return {
        i,
        errorCode: end.errorCode,
        ok: viaSink ? answer.toString() === sha256(payload) : end.sha256 === sha256(payload),
      };
    });
    const results = await Promise.all(runs);
    expect(results.filter((r) => !r.ok || r.errorCode)).toEqual([]);
    expect(routeCounters('echo').tunneled - before.echo).toBe(100);
    expect(routeCounters('sink').tunneled - before.sink).toBe(100);
    await eventually(
      () => routeCounters('echo').active + routeCounters('sink').active === 0,
      'all 200 tunnels to close',
      10_000,
    );
    expect(routeCounters('echo').broken).toEqual({});
    expect(routeCounters('sink').broken).toEqual({});
  });

  it('carries half-close: the client shuts its write side and reads the whole answer sent after EOF', async () => {
    const request = patternBytes(4 * MiB + 17, 5);
    const client = await connectClient(world.port('after-eof'));
    client.socket.write(request.subarray(0, 1000));
    client.socket.end(request.subarray(1000));
    const end = await client.ended;
    expect(end.errorCode).toBeUndefined();
    // The target answered only after it saw EOF, so this proves the FIN crossed the tunnel and the way back stayed open.
    expect(end.received.length).toBe(request.length);
    expect(sha256(end.received)).toBe(sha256(request));
    await eventually(() => routeCounters('after-eof').active === 0, 'the tunnel to close');
    expect(routeCounters('after-eof').broken).toEqual({});
  });

  it('carries a FIN sent before the tunnel is open, with no byte before it', async () => {
    const echo = await connectClient(world.port('echo'));
    const sink = await connectClient(world.port('sink'));
    echo.socket.end();
    sink.socket.end();
    expect(await echo.ended).toEqual({ received: Buffer.alloc(0) });
    expect(await sink.ended).toEqual({ received: Buffer.from(sha256Of('')) });
  });

  it('serves HTTP with keep-alive: three requests on one tunneled connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<net.Socket>();
    try {
      const bodies: string[] = [];
      for (const path of ['/', '/a', '/b?c=d']) {
        bodies.push(
          await new Promise<string>((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: world.port('web'), path, agent }, (res) => {
              sockets.add(res.socket);
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
            });
            req.on('error', reject);
          }),
        );
      }
      expect(bodies.map((b) => b.slice(0, 3))).toEqual(['200', '200', '200']);
      expect(bodies[0]).toContain(`Hello from ${SITE} / web`);
      expect(bodies[2]).toContain('GET /b?c=d');
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
    await eventually(() => routeCounters('web').active === 0, 'the HTTP tunnel to close');
    expect(routeCounters('web')).toMatchObject({ tunneled: 1, broken: {} });
  });
});
