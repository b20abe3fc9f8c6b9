// A tunnel that cannot be opened is logged with its real cause, in the message and in the fields (before, every
// one read "tunnel failed: client closed"), and counted under that cause. Real gateway and forwarder, sandbox relay.
import { Writable } from 'node:stream';
import pino from 'pino';
import { startE2eWorld, type E2eWorld } from '../support/e2e-world';
import { until } from '../support/hc-fake-service';
import { connectClient } from '../support/relay-gateway-harness';

/** Collects a pino logger's JSON lines. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text.trim() !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('relay-gateway failure reasons (real gateway and forwarder)', () => {
  let world: E2eWorld;
  const { logger, lines } = capturingLogger();

  beforeAll(async () => {
    world = await startE2eWorld({ gatewayLogger: logger });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  /** The gateway's failure line for route `routeId` (waits for it). */
  async function failureLine(routeId: string): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(
      () => (found = lines.find((l) => l.routeId === routeId && l.level === 40)) !== undefined,
      20_000,
      `the failure line of ${routeId}`,
    );
    return found!;
  }

  it.each([
    ['down', 'target-refused', 'tunnel failed: target refused'],
    ['unknown', 'unknown-service', 'tunnel failed: unknown service'],
  ])('route %s: logs "%s" as the cause, not "client closed"', async (routeId, reason, msg) => {
    const client = await connectClient(world.port(routeId));
    client.socket.end('anyone?');
    expect((await client.ended).errorCode).toBe('ECONNRESET');
    const line = await failureLine(routeId);
    expect({ msg: line.msg, reason: line.reason }).toEqual({ msg, reason });
    expect(world.gateway.gateway.state().routes[routeId]!.counters.failed).toEqual({ [reason]: 1 });
  });
});
