// One relay connection served by runTunnelSession, over a local ws pair standing in for the relay, with real
// TCP targets. The sandbox-relay versions of these paths live in tests/integration/relay-forwarder*.test.ts.
import { once } from 'node:events';
import * as net from 'node:net';
import pino from 'pino';
import type WebSocket from 'ws';
import { dialTarget, parseTarget } from '../../../../../modules/common/src/net/target';
import { RepeatLog } from '../../../../../modules/common/src/repeat-log';
import { encodePreamble } from '../../../../../modules/common/src/tunnel/preamble';
import type { ServiceConfig } from '../../../../../modules/relay-forwarder/src/config/types';
import {
  ServiceCounters,
  type ConnectionRefusalReason,
} from '../../../../../modules/relay-forwarder/src/runtime/stats';
import type {
  LiveTunnel,
  TunnelSessionHost,
} from '../../../../../modules/relay-forwarder/src/runtime/session-host';
import type {
  TunnelClosedEvent,
  TunnelRefusedEvent,
} from '../../../../../modules/relay-forwarder/src/runtime/tunnel-events';
import { runTunnelSession } from '../../../../../modules/relay-forwarder/src/runtime/tunnel-session';
import {
  openWsPair,
  startTcpServer,
  waitFor,
  type TestTcpServer,
  type WsPair,
} from '../../../../support/tunnel-harness';

function service(name: string, target: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    target: parseTarget(target),
    maxConnections: 10,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 0,
    enabled: true,
    ...extra,
  };
}

interface TestHost extends TunnelSessionHost {
  readonly tunnels: Set<LiveTunnel>;
  readonly counterMap: Map<string, ServiceCounters>;
  readonly refusedBefore: ConnectionRefusalReason[];
  readonly refusals: TunnelRefusedEvent[];
  readonly closes: TunnelClosedEvent[];
  readonly shutdown: AbortController;
}

function makeHost(services: ServiceConfig[], overrides: Partial<TunnelSessionHost> = {}): TestHost {
  const table = new Map(services.map((s) => [s.name, s]));
  const tunnels = new Set<LiveTunnel>();
  const counterMap = new Map<string, ServiceCounters>();
  const refusedBefore: ConnectionRefusalReason[] = [];
  const refusals: TunnelRefusedEvent[] = [];
  const closes: TunnelClosedEvent[] = [];
  const shutdown = new AbortController();
  return {
    hybridConnection: 'hc',
    service: (name) => table.get(name),
    counters: (name) => {
      if (!counterMap.has(name)) counterMap.set(name, new ServiceCounters());
      return counterMap.get(name)!;
    },
    refusedBeforeService: (reason) => refusedBefore.push(reason),
    register: (t) => tunnels.add(t),
    unregister: (t) => tunnels.delete(t),
    log: pino({ level: 'silent' }),
    refusalLog: new RepeatLog(pino({ level: 'silent' })),
    events: { opened: () => undefined, closed: (e) => closes.push(e), refused: (e) => refusals.push(e) },
    signal: shutdown.signal,
    tunnels,
    counterMap,
    refusedBefore,
    refusals,
    closes,
    shutdown,
    ...overrides,
  };
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

// A dial whose socket never connects, standing in for a target host that drops SYNs.
const silentDial: typeof dialTarget = (target, options) =>
  dialTarget(target, { ...options, connect: () => new net.Socket() });

describe('runTunnelSession', () => {
  let pair: WsPair;
  let echo: TestTcpServer;

  beforeAll(async () => {
    echo = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
  });
  afterAll(() => echo.close());
  beforeEach(async () => {
    pair = await openWsPair();
  });
  afterEach(() => pair.close());

  function run(host: TestHost, headers: Record<string, string> = {}): Promise<void> {
    return runTunnelSession(
      pair.listener,
      { id: 'conn-1', address: 'wss://unused', connectHeaders: headers },
      host,
    );
  }

  it('closes with 4504 when the dial outlasts connectTimeoutMs, and frees the slot', async () => {
    const host = makeHost([service('db', '192.0.2.1:1433', { connectTimeoutMs: 100 })], { dial: silentDial });
    const closed = closeOf(pair.sender);
    const session = run(host);
    pair.sender.send(encodePreamble('db'));
    expect(await closed).toEqual({ code: 4504, reason: 'target connect timed out' });
    await session;
    expect(host.counterMap.get('db')!.snapshot()).toMatchObject({
      active: 0,
      accepted: 0,
      refused: { timeout: 1 },
    });
    expect(host.refusals).toEqual([
      {
        hybridConnection: 'hc',
        tunnelId: 'conn-1',
        portName: 'db',
        service: 'db',
        reason: 'timeout',
        closeCode: 4504,
        acceptedAtMs: expect.any(Number),
      },
    ]);
    expect(host.tunnels.size).toBe(0);
  });

  it('cancels a dial in progress when the tunnel is drained, without counting a target failure', async () => {
    const host = makeHost([service('db', '192.0.2.1:1433', { connectTimeoutMs: 60_000 })], {
      dial: silentDial,
    });
    const closed = closeOf(pair.sender);
    const session = run(host);
    pair.sender.send(encodePreamble('db'));
    await waitFor(() => host.tunnels.size === 1, 'tunnel registered');
    const [tunnel] = host.tunnels;
    expect(tunnel.abort('draining')).toBe(true);
    expect((await closed).code).toBe(1001);
    await session;
    await tunnel.done;
    expect(tunnel.abort('again')).toBe(false);
    expect(host.counterMap.get('db')!.snapshot()).toMatchObject({
      active: 0,
      refused: { timeout: 0, 'target-error': 0 },
    });
  });

  it('cancels the dial when the sender leaves, without counting a target failure', async () => {
    const host = makeHost([service('db', '192.0.2.1:1433', { connectTimeoutMs: 60_000 })], {
      dial: silentDial,
    });
    const session = run(host);
    pair.sender.send(encodePreamble('db'));
    await waitFor(() => host.tunnels.size === 1, 'tunnel registered');
    pair.sender.close(1000);
    await session;
    expect(host.counterMap.get('db')!.snapshot()).toMatchObject({
      active: 0,
      accepted: 0,
      refused: { 'target-error': 0 },
    });
    expect(host.refusals).toEqual([]);
  });

  it('closes an idle tunnel with 4408 after idleTimeoutMs', async () => {
    const host = makeHost([service('echo', `127.0.0.1:${echo.port}`, { idleTimeoutMs: 100 })]);
    const closed = closeOf(pair.sender);
    const session = run(host);
    pair.sender.send(encodePreamble('echo'));
    const [reply] = (await once(pair.sender, 'message')) as [Buffer];
    expect([...reply]).toEqual([1, 0, 0]);
    expect((await closed).code).toBe(4408);
    await session;
    expect(host.closes).toEqual([
      expect.objectContaining({ service: 'echo', ok: false, errorCode: 'TUNNEL_IDLE_TIMEOUT' }),
    ]);
    expect(host.counterMap.get('echo')!.snapshot()).toMatchObject({ accepted: 1, active: 0, closed: 1 });
  });

  it('agrees to half-close when the sender offers it', async () => {
    const host = makeHost([service('echo', `127.0.0.1:${echo.port}`)]);
    const session = run(host, { 'x-hrf-half-close': '1' });
    const frames: Array<string | number[]> = [];
    pair.sender.on('message', (data: Buffer, isBinary: boolean) =>
      frames.push(isBinary ? [...data] : data.toString()),
    );
    pair.sender.send(encodePreamble('echo'));
    await waitFor(() => frames.length >= 2, 'accept frame and reply');
    expect(frames.slice(0, 2)).toEqual(['hrf:half-close:1', [1, 0, 0]]);
    pair.sender.close(1000);
    await session;
  });

  it('gives a silent sender preambleTimeoutMs, then closes with 4408', async () => {
    const host = makeHost([], { preambleTimeoutMs: 50 });
    const closed = closeOf(pair.sender);
    await run(host);
    expect((await closed).code).toBe(4408);
    expect(host.refusedBefore).toEqual(['bad-preamble']);
    expect(host.refusals).toEqual([
      {
        hybridConnection: 'hc',
        tunnelId: 'conn-1',
        reason: 'bad-preamble',
        closeCode: 4408,
        acceptedAtMs: expect.any(Number),
      },
    ]);
  });

  it('stops waiting for a preamble when the hybrid connection shuts down', async () => {
    const host = makeHost([]);
    const closed = closeOf(pair.sender);
    const session = run(host);
    host.shutdown.abort();
    expect((await closed).code).toBe(1001);
    await session;
    expect(host.refusedBefore).toEqual([]);
  });

  it('summarises repeated refusals per service and reason instead of writing a line each', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const refusalLog = new RepeatLog(logger, { intervalMs: 60_000 });
    const host = makeHost([service('db', '127.0.0.1:1', { enabled: false })], { log: logger, refusalLog });
    const pairs = [pair, ...(await Promise.all([1, 2, 3, 4].map(() => openWsPair())))];
    try {
      for (const [i, p] of pairs.entries()) {
        const closed = closeOf(p.sender);
        const session = runTunnelSession(
          p.listener,
          { id: `conn-${i}`, address: 'wss://unused', connectHeaders: {} },
          host,
        );
        p.sender.send(encodePreamble(i % 2 === 0 ? 'db' : 'nope'));
        await session;
        expect((await closed).code).toBe(i % 2 === 0 ? 4403 : 4404);
      }
      refusalLog.close();
    } finally {
      await Promise.all(pairs.slice(1).map((p) => p.close()));
    }
    const refused = lines.filter((l) => l.msg === 'tunnel refused');
    // The first of each key at once, the rest as one line with their count.
    expect(refused.map((l) => [l.portName, l.reason, l.count])).toEqual([
      ['db', 'disabled', 1],
      ['nope', 'unknown-service', 1],
      ['db', 'disabled', 2],
      ['nope', 'unknown-service', 1],
    ]);
    expect(refused[2]).toMatchObject({ closeCode: 4403, tunnelId: 'conn-4' });
    expect(host.refusals).toHaveLength(5);
  });
});
