// relay-forwarder and connections a gateway opened ahead of a client (`x-hrf-warm: 1`): their preamble may come
// long after the accept, so they get their own, longer preamble timeout, and they are counted separately.
import type { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import {
  handWrittenPreamble,
  openRawSender,
  startForwarderWorld,
  waitOnline,
  type ForwarderWorld,
} from '../support/relay-forwarder-harness';

let world: ForwarderWorld;
let forwarder: Forwarder;
/** Short enough to pass during the test; the warm timeout is far longer. */
const PREAMBLE_TIMEOUT_MS = 300;

beforeAll(async () => {
  world = await startForwarderWorld(['site-w']);
  forwarder = world.startForwarder({ preambleTimeoutMs: PREAMBLE_TIMEOUT_MS, warmPreambleTimeoutMs: 60_000 });
  const applied = forwarder.applyDocument({
    schemaVersion: 1,
    hybridConnections: {
      siteW: {
        connectionString: world.hc('site-w').listenConnectionString,
        listeners: 1,
        services: { echo: { target: `127.0.0.1:${world.echo.port}` } },
      },
    },
  });
  expect(applied.ok).toBe(true);
  await waitOnline(forwarder, 'siteW');
});

afterAll(async () => {
  await world.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('waits past the ordinary preamble timeout for a warm connection, then tunnels; a cold one is closed with 4408', async () => {
  const warm = await openRawSender(world, 'site-w', { 'x-hrf-warm': '1' });
  const cold = await openRawSender(world, 'site-w');
  expect((await cold.closed).code).toBe(4408);
  await sleep(PREAMBLE_TIMEOUT_MS * 3);
  warm.ws.send(handWrittenPreamble('echo'));
  await warm.waitForBytes(3);
  warm.ws.send(Buffer.from('ping'));
  const all = await warm.waitForBytes(3 + 4);
  expect(all.subarray(3).toString()).toBe('ping');
  const state = forwarder.state().hybridConnections.siteW!;
  expect(state.warmConnections).toBe(1);
  expect(state.refused['bad-preamble']).toBe(1);
  expect(state.services.echo!.accepted).toBe(1);
  warm.ws.close();
  await warm.closed;
});

describe('client metadata on warm connections (hrf:meta)', () => {
  const until = async (condition: () => boolean, what: string): Promise<void> => {
    for (const deadline = Date.now() + 20_000; !condition(); await sleep(20))
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  };

  it('announces hrf:warm first on a warm connection only, and tunnels after a metadata frame', async () => {
    const warm = await openRawSender(world, 'site-w', { 'x-hrf-warm': '1' });
    await until(() => warm.texts.length > 0, 'the announcement');
    expect(warm.texts).toEqual(['hrf:warm']);
    warm.ws.send(`hrf:meta ${JSON.stringify({ 'x-hrf-client': '203.0.113.7:40001' })}`);
    warm.ws.send(handWrittenPreamble('echo'));
    await warm.waitForBytes(3);
    warm.ws.send(Buffer.from('pong'));
    expect((await warm.waitForBytes(3 + 4)).subarray(3).toString()).toBe('pong');
    warm.ws.close();
    await warm.closed;
    // A cold connection gets no announcement, and a metadata frame on it is refused like any text frame.
    const cold = await openRawSender(world, 'site-w');
    cold.ws.send(`hrf:meta ${JSON.stringify({ 'x-hrf-client': '203.0.113.7:40001' })}`);
    expect((await cold.closed).code).toBe(4400);
    expect(cold.texts).toEqual([]);
  });

  it.each([
    ['over 4 KiB', `hrf:meta ${JSON.stringify({ tracestate: 'a'.repeat(4200) })}`],
    ['not JSON', 'hrf:meta {nope'],
    ['an unknown name', `hrf:meta ${JSON.stringify({ 'x-hrf-warm': '1' })}`],
    ['a non-string value', `hrf:meta ${JSON.stringify({ 'x-hrf-client': 1 })}`],
    ['another text frame', 'hello'],
  ])('a warm connection whose metadata frame is %s is refused with 4400', async (_what, frame) => {
    const warm = await openRawSender(world, 'site-w', { 'x-hrf-warm': '1' });
    warm.ws.send(frame);
    warm.ws.send(handWrittenPreamble('echo'));
    expect((await warm.closed).code).toBe(4400);
  });

  it('a second metadata frame is refused with 4400', async () => {
    const warm = await openRawSender(world, 'site-w', { 'x-hrf-warm': '1' });
    const frame = `hrf:meta ${JSON.stringify({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })}`;
    warm.ws.send(frame);
    warm.ws.send(frame);
    expect((await warm.closed).code).toBe(4400);
  });
});
