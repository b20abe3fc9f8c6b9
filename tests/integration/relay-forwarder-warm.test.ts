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
