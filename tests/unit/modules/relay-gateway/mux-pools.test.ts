// The gateway's pool of multiplexed connections, over real loopback WebSocket pairs (a listener session that
// accepts every stream stands in for the forwarder): how many connections it keeps, that it never passes its
// bound, that idle ones close, and that a listener without multiplexing is not asked again at once.
import WebSocket from 'ws';
import { startMuxAcceptor, startMuxOpener } from '../../../../modules/common/src/mux/handshake';
import type { MuxSession } from '../../../../modules/common/src/mux/session';
import { TunnelError } from '../../../../modules/common/src/tunnel/errors';
import type { GatewayHybridConnection } from '../../../../modules/relay-gateway/src/config/types';
import { DEFAULT_MUX_TIMING, MuxPools, type MuxOpen } from '../../../../modules/relay-gateway/src/mux-pools';
import { startWsServer } from '../../../support/mux-pair';

const HC = { name: 'hc', namespace: 'ns', path: 'p' } as GatewayHybridConnection;
const META = { port: 'echo', headers: {} };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); await sleep(10))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

/** Clients keep coming (a take every 10 ms) until `condition` holds. */
async function clientsUntil(
  pools: MuxPools,
  hc: GatewayHybridConnection,
  condition: () => boolean,
): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pool');
    pools.take(hc, { maxConnections: 2 });
  }
}

describe('MuxPools', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A loopback listener whose sessions accept every stream; `open` counts its calls. */
  async function listener(maxStreams: number): Promise<{ open: MuxOpen; calls: () => number }> {
    const server = await startWsServer((ws) =>
      startMuxAcceptor(ws, maxStreams).on('stream', (s) => {
        s.on('error', () => undefined);
        s.accept();
      }),
    );
    cleanups.push(() => server.close());
    let calls = 0;
    const open: MuxOpen = () => {
      calls += 1;
      return startMuxOpener(new WebSocket(server.url, { perMessageDeflate: false }), { maxStreams: 1024 });
    };
    return { open, calls: () => calls };
  }

  it('keeps two connections while clients come, grows when half full, and never passes its bound', async () => {
    const { open } = await listener(4);
    const pools = new MuxPools(open);
    cleanups.push(() => pools.close());
    expect(pools.take(HC, { maxConnections: 3 })).toBeUndefined(); // none yet: the client goes classic
    await until(() => pools.stats(HC)?.connections === 1, 'one connection');
    pools.take(HC, { maxConnections: 3 }); // a second client: a second connection, for spread
    await until(() => pools.stats(HC)?.connections === 2, 'two connections');
    const sessions = new Set<MuxSession>();
    let streams = 0;
    for (let i = 0; i < 40; i++) {
      const connection = pools.take(HC, { maxConnections: 3 });
      if (connection) {
        const stream = connection.session.openStream(META);
        stream.on('error', () => undefined);
        sessions.add(connection.session);
        streams += 1;
      }
      await sleep(5);
    }
    // Three connections of four streams each, whatever the demand.
    await until(() => pools.stats(HC)?.connections === 3, 'a third connection');
    expect(streams).toBe(12);
    expect(sessions.size).toBe(3);
    expect(pools.take(HC, { maxConnections: 3 })).toBeUndefined();
  });

  it('closes connections without a stream after the idle time', async () => {
    const { open } = await listener(8);
    const pools = new MuxPools(open, undefined, { ...DEFAULT_MUX_TIMING, idleAfterMs: 100 });
    cleanups.push(() => pools.close());
    await clientsUntil(pools, HC, () => pools.stats(HC)?.connections === 2);
    await until(() => pools.stats(HC)?.connections === 0, 'the idle connections closed');
  });

  it('does not ask a listener that did not multiplex again before the retry time', async () => {
    let calls = 0;
    const pools = new MuxPools(() => {
      calls += 1;
      return Promise.reject(new TunnelError('TUNNEL_HANDSHAKE_TIMEOUT', 'no mux accept', false));
    });
    cleanups.push(() => pools.close());
    expect(pools.take(HC, { maxConnections: 4 })).toBeUndefined();
    await until(() => pools.stats(HC)?.supported === false, 'the refusal noted');
    const asked = calls;
    for (let i = 0; i < 10; i++) expect(pools.take(HC, { maxConnections: 4 })).toBeUndefined();
    expect(calls).toBe(asked);
  });

  it('closes a pool once no route uses it (the last route released), and keeps it while one does', async () => {
    const { open } = await listener(8);
    const pools = new MuxPools(open);
    cleanups.push(() => pools.close());
    pools.take(HC, { maxConnections: 2 }, 'a');
    pools.take(HC, { maxConnections: 2 }, 'b');
    await until(() => pools.stats(HC)?.connections === 2, 'two connections');
    pools.release('a');
    expect(pools.stats(HC)?.connections).toBe(2);
    pools.release('b');
    expect(pools.stats(HC)).toBeUndefined();
  });

  it('starts a new pool when the hybrid connection object (its credential) changes', async () => {
    const { open, calls } = await listener(8);
    const pools = new MuxPools(open);
    cleanups.push(() => pools.close());
    await clientsUntil(pools, HC, () => pools.stats(HC)?.connections === 2);
    const rotated = { ...HC } as GatewayHybridConnection;
    expect(pools.take(rotated, { maxConnections: 2 })).toBeUndefined();
    await clientsUntil(pools, rotated, () => pools.stats(rotated)?.connections === 2);
    expect(calls()).toBe(4);
  });
});
