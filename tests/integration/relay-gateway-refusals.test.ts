// Refused clients, counted and logged truthfully with a scripted relay: a flood of refusals at a connection limit
// writes a bounded number of log lines that still carry every refusal, and clients that reset before the gateway
// accepts them count as client-aborted, not as allow-list refusals.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import pino from 'pino';
import { Gateway } from '../../modules/relay-gateway/src/gateway';
import {
  ScriptedOpener,
  connectClient,
  eventually,
  gatewayDocument,
  loopbackRoute,
  routePort,
  type TestClient,
} from '../support/relay-gateway-harness';

interface LogLine {
  readonly msg: string;
  readonly level: number;
  readonly routeId?: string;
  readonly reason?: string;
  readonly count?: number;
}

const WARN = 40;

describe('gateway refusals', () => {
  let lines: LogLine[];
  let gateway: Gateway;
  const clients: TestClient[] = [];

  beforeEach(() => {
    lines = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const opener = new ScriptedOpener();
    opener.default = 'hang';
    // A minute-long interval: within this test only the first line and the summary written at stop appear.
    gateway = new Gateway({ opener: opener.open, logger, refusalLogIntervalMs: 60_000 });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    gateway.closeAllConnections();
    await gateway.stop(0);
  });

  const refusedLines = (): LogLine[] => lines.filter((l) => l.msg === 'client refused');

  it('summarises 5,000 refusals at a connection limit in two lines carrying all 5,000', async () => {
    const applied = await gateway.applyDocument(
      gatewayDocument({ web: loopbackRoute({ maxConnections: 1 }) }),
    );
    expect(applied.ok).toBe(true);
    const port = routePort(gateway, 'web');
    clients.push(await connectClient(port));
    await eventually(() => gateway.state().routes.web!.counters.active === 1, 'the first client admitted');

    const total = 5_000;
    for (let sent = 0; sent < total; sent += 250) {
      const batch = await Promise.all(Array.from({ length: 250 }, () => connectClient(port)));
      await Promise.all(batch.map((client) => client.ended));
    }
    await eventually(
      () => gateway.state().routes.web!.counters.refused['route-limit'] === total,
      'every refusal counted',
      30_000,
    );
    await gateway.stop(0);

    const refused = refusedLines();
    expect(refused).toHaveLength(2);
    expect(refused.every((l) => l.level === WARN && l.routeId === 'web' && l.reason === 'route-limit')).toBe(
      true,
    );
    expect(refused.reduce((sum, l) => sum + (l.count ?? 0), 0)).toBe(total);
  }, 120_000);

  it('counts clients that reset before they were accepted as client-aborted, not as allow-list refusals', async () => {
    const applied = await gateway.applyDocument(gatewayDocument({ web: loopbackRoute() }));
    expect(applied.ok).toBe(true);
    const port = routePort(gateway, 'web');
    // spawnSync blocks this process, so every connection waits in the accept queue until its client has reset it.
    const total = 200;
    const script =
      `const net=require('net');let n=0;for(let i=0;i<${total};i++){const s=net.connect(${port},'127.0.0.1');` +
      `s.on('error',()=>{});s.on('connect',()=>{s.resetAndDestroy();if(++n===${total})setTimeout(()=>process.exit(0),50)})}`;
    expect(spawnSync(process.execPath, ['-e', script], { timeout: 60_000 }).status).toBe(0);

    await eventually(
      () => gateway.state().routes.web!.counters.refused['client-aborted'] === total,
      'every aborted client counted',
      30_000,
    );
    const { refused } = gateway.state().routes.web!.counters;
    expect(refused['not-allowed']).toBeUndefined();
    expect(gateway.state().routes.web!.counters.accepted).toBe(0);
    const logged = refusedLines().filter((l) => l.reason === 'client-aborted');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThanOrEqual(2);
  }, 90_000);

  it('still refuses a client from outside the allow-list as not-allowed', async () => {
    const applied = await gateway.applyDocument(
      gatewayDocument({ web: loopbackRoute({ allow: ['10.0.0.0/8'] }) }),
    );
    expect(applied.ok).toBe(true);
    const client = net.connect(routePort(gateway, 'web'), '127.0.0.1');
    client.on('error', () => undefined);
    await eventually(() => gateway.state().routes.web!.counters.refused['not-allowed'] === 1, 'the refusal');
    client.destroy();
  });
});
