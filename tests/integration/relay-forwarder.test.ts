// relay-forwarder against the sandbox relay over TLS with real TCP targets: the azbridge preamble written by
// hand, every refusal close code, connection limits.
import { once } from 'node:events';
import fs from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import { SERVICE_DISABLED_CLOSE_CODE } from '../../modules/relay-forwarder/src/runtime/serve-request';
import {
  duplexClosed,
  handWrittenPreamble,
  openLibraryTunnel,
  openRawSender,
  startForwarderWorld,
  waitOnline,
  type ForwarderWorld,
} from '../support/relay-forwarder-harness';
import { startTcpServer, waitFor, type TestTcpServer } from '../support/tunnel-harness';

describe('relay-forwarder data path (sandbox relay, TLS)', () => {
  let world: ForwarderWorld;
  let forwarder: Forwarder;
  let hold: TestTcpServer;
  const held: net.Socket[] = [];
  let unixDir: string;
  let unixServer: net.Server;

  beforeAll(async () => {
    world = await startForwarderWorld(['site-a']);
    // A target that keeps every connection open and silent until the test lets it go.
    hold = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      held.push(socket);
    });
    unixDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarder-unix-'));
    unixServer = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('unix socket target\n');
    });
    unixServer.listen(path.join(unixDir, 'app.sock'));
    await once(unixServer, 'listening');
    forwarder = world.startForwarder();
    const applied = forwarder.applyDocument({
      schemaVersion: 1,
      hybridConnections: {
        siteA: {
          connectionString: world.hc('site-a').listenConnectionString,
          listeners: 2,
          services: {
            echo: { target: `127.0.0.1:${world.echo.port}` },
            down: { target: `127.0.0.1:${world.downPort}`, connectTimeoutMs: 5000 },
            off: { target: `127.0.0.1:${world.echo.port}`, enabled: false },
            one: { target: `127.0.0.1:${hold.port}`, maxConnections: 1 },
            nxdomain: { target: 'no-such-host.invalid:80' },
            sock: { target: `unix:${path.join(unixDir, 'app.sock')}` },
          },
        },
      },
    });
    expect(applied.ok).toBe(true);
    await waitOnline(forwarder, 'siteA');
  });

  afterAll(async () => {
    await world.close();
    await hold.close();
    await new Promise<void>((resolve) => unixServer.close(() => resolve()));
    fs.rmSync(unixDir, { recursive: true, force: true });
  });

  it('answers a hand-written azbridge preamble with [1, 0, mode], then echoes bytes', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('echo'));
    expect([...(await sender.waitForBytes(3))]).toEqual([1, 0, 0]);
    sender.ws.send(Buffer.from('hello over the relay'));
    const all = await sender.waitForBytes(3 + 20);
    expect(all.subarray(3).toString()).toBe('hello over the relay');
    // No half-close header was offered, so no text frame may have been sent (azbridge behaviour).
    expect(sender.texts).toEqual([]);
    sender.ws.close(1000);
    expect((await sender.closed).code).toBe(1000);
  });

  it('takes payload in the same frame as the preamble, and a preamble split across frames', async () => {
    const sameFrame = await openRawSender(world, 'site-a');
    sameFrame.ws.send(Buffer.concat([handWrittenPreamble('echo'), Buffer.from('piggyback')]));
    expect((await sameFrame.waitForBytes(12)).toString('latin1', 3)).toBe('piggyback');
    sameFrame.ws.close(1000);

    const split = await openRawSender(world, 'site-a');
    const preamble = handWrittenPreamble('echo');
    for (const byte of preamble) split.ws.send(Buffer.from([byte]));
    split.ws.send(Buffer.from('xy'));
    expect([...(await split.waitForBytes(5))]).toEqual([1, 0, 0, 0x78, 0x79]);
    split.ws.close(1000);
    await Promise.all([sameFrame.closed, split.closed]);
  });

  it('closes an unknown port name with 4404', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('no-such-service'));
    const { code, reason } = await sender.closed;
    expect(code).toBe(4404);
    expect(reason).toBe('unknown service');
    expect(sender.received().length).toBe(0);
    expect(forwarder.state().hybridConnections.siteA.refused['unknown-service']).toBeGreaterThanOrEqual(1);
  });

  it('closes with 4502 when the target refuses, without naming the target', async () => {
    const before = forwarder.state().hybridConnections.siteA.services.down.refused.refused;
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('down'));
    const { code, reason } = await sender.closed;
    expect(code).toBe(4502);
    expect(reason).not.toContain(String(world.downPort));
    expect(forwarder.state().hybridConnections.siteA.services.down.refused.refused).toBe(before + 1);
  });

  it('closes with 4503 when the target name does not resolve', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('nxdomain'));
    expect(await sender.closed).toEqual({ code: 4503, reason: 'target name not resolved' });
    expect(forwarder.state().hybridConnections.siteA.services.nxdomain.refused.dns).toBe(1);
  });

  it('reaches a Unix socket target', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('sock'));
    const text = 'unix socket target\n';
    expect((await sender.waitForBytes(3 + text.length)).toString('latin1', 3)).toBe(text);
    // The target ended its side; without half-close the tunnel closes normally.
    expect((await sender.closed).code).toBe(1000);
  });

  it('closes a disabled service with its own code', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(handWrittenPreamble('off'));
    expect(await sender.closed).toEqual({ code: SERVICE_DISABLED_CLOSE_CODE, reason: 'service disabled' });
    expect(forwarder.state().hybridConnections.siteA.services.off.refused.disabled).toBe(1);
  });

  it('closes a bad preamble with 4400', async () => {
    const sender = await openRawSender(world, 'site-a');
    sender.ws.send(Buffer.from([2, 0, 0, 1, 0x41]));
    expect((await sender.closed).code).toBe(4400);
  });

  it('refuses beyond maxConnections with 4429 and serves again once a slot frees', async () => {
    const first = await openLibraryTunnel(world, 'site-a', 'one');
    await waitFor(() => held.length === 1, 'first connection at the hold target');

    const second = await openRawSender(world, 'site-a');
    second.ws.send(handWrittenPreamble('one'));
    expect((await second.closed).code).toBe(4429);
    const stats = forwarder.state().hybridConnections.siteA.services.one;
    expect(stats).toMatchObject({ active: 1, accepted: 1 });
    expect(stats.refused.busy).toBe(1);

    const firstClosed = duplexClosed(first);
    held[0].end();
    first.resume();
    first.end();
    await firstClosed;
    await waitFor(() => forwarder.state().hybridConnections.siteA.services.one.active === 0, 'slot freed');

    const third = await openLibraryTunnel(world, 'site-a', 'one');
    await waitFor(() => held.length === 2, 'third connection at the hold target');
    held[1].write('still served');
    const [chunk] = (await once(third, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('still served');
    const thirdClosed = duplexClosed(third);
    third.destroy();
    await thirdClosed;
  });

  it('counts bytes each way per service', async () => {
    const before = forwarder.state().hybridConnections.siteA.services.echo;
    const tunnel = await openLibraryTunnel(world, 'site-a', 'echo');
    const payload = Buffer.alloc(100_000, 7);
    const received: Buffer[] = [];
    tunnel.on('data', (c: Buffer) => received.push(c));
    tunnel.end(payload);
    await once(tunnel, 'end');
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    await waitFor(
      () => forwarder.state().hybridConnections.siteA.services.echo.closed === before.closed + 1,
      'tunnel counted as closed',
    );
    const after = forwarder.state().hybridConnections.siteA.services.echo;
    expect(after.bytesToTarget - before.bytesToTarget).toBe(payload.length);
    expect(after.bytesFromTarget - before.bytesFromTarget).toBe(payload.length);
    expect(after.accepted - before.accepted).toBe(1);
  });
});
