import { once } from 'node:events';
import type { MuxStream } from '../../../../../modules/common/src/mux/stream';
import { MUX_INITIAL_WINDOW } from '../../../../../modules/common/src/mux/stream';
import { TunnelError } from '../../../../../modules/common/src/tunnel/errors';
import { errorOf, openMuxPair, readAll, writeAll, type MuxPair } from '../../../../support/mux-pair';
import { patternBytes, sha256 } from '../../../../support/tunnel-harness';

const META = { port: 'echo', headers: {} };

/** Acceptor side serves every stream as an echo: everything read is written back, then the stream ends. */
function serveEcho(pair: MuxPair): void {
  pair.acceptor.on('stream', (stream) => {
    stream.accept();
    stream.pipe(stream);
  });
}

describe('mux session', () => {
  let pair: MuxPair;
  afterEach(async () => {
    await pair?.close();
  });

  it('carries sha256-checked bulk both ways over many concurrent streams', async () => {
    pair = await openMuxPair();
    serveEcho(pair);
    const transfers = Array.from({ length: 24 }, async (_, i) => {
      const data = patternBytes(512 * 1024 + i * 7919, i + 1);
      const stream = pair.opener.openStream(META);
      await stream.accepted;
      const [echoed] = await Promise.all([readAll(stream), writeAll(stream, data, 33_333)]);
      expect(sha256(echoed)).toBe(sha256(data));
    });
    await Promise.all(transfers);
    // Every stream ended with both FINs: the sessions forgot them all.
    await new Promise((resolve) => setImmediate(resolve));
    expect(pair.opener.activeStreams).toBe(0);
    expect(pair.acceptor.activeStreams).toBe(0);
  });

  it('lets another stream complete while one reader is paused, and holds the paused one at its window', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const slow = pair.opener.openStream(META);
    await slow.accepted;
    const slowData = patternBytes(4 * 1024 * 1024, 7);
    // The acceptor's side of `slow` is never read for now: its sender must stop at the window.
    const slowWrite = writeAll(slow, slowData);
    const fast = pair.opener.openStream(META);
    await fast.accepted;
    const fastData = patternBytes(8 * 1024 * 1024, 8);
    const fastRead = readAll(served[1]);
    await writeAll(fast, fastData);
    expect(sha256(await fastRead)).toBe(sha256(fastData));
    // The slow stream is stalled: the receiver holds at most one window, the sender still has bytes to send.
    expect(served[0].readableLength).toBeLessThanOrEqual(MUX_INITIAL_WINDOW);
    expect(served[0].readableLength).toBeGreaterThan(0);
    expect(slow.writableFinished).toBe(false);
    const slowRead = readAll(served[0]);
    await slowWrite;
    expect(sha256(await slowRead)).toBe(sha256(slowData));
    for (const stream of served) stream.end();
    await Promise.all([readAll(slow), readAll(fast)]);
  });

  it('carries half-close both ways: each side reads to the end after the other finished', async () => {
    pair = await openMuxPair();
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      // Answer only after the request ended (a request/response over a half-closed connection).
      void readAll(stream).then((request) => stream.end(Buffer.concat([Buffer.from('got '), request])));
    });
    const stream = pair.opener.openStream(META);
    await stream.accepted;
    const response = readAll(stream);
    stream.end(Buffer.from('request'));
    expect((await response).toString()).toBe('got request');

    // The other way round: the listener finishes its direction first and keeps reading.
    pair.acceptor.removeAllListeners('stream');
    const reverse = new Promise<MuxStream>((resolve) => pair.acceptor.once('stream', resolve));
    pair.acceptor.on('stream', (s) => {
      s.accept();
      s.end(Buffer.from('banner'));
    });
    const second = pair.opener.openStream(META);
    const served = await reverse;
    await second.accepted;
    expect((await readAll(second)).toString()).toBe('banner');
    const upload = readAll(served);
    second.end(Buffer.from('after the banner'));
    expect((await upload).toString()).toBe('after the banner');
  });

  it('refuses a stream with a close code the opener reads as the same TunnelError', async () => {
    pair = await openMuxPair();
    pair.acceptor.on('stream', (stream) => stream.refuse(4502, 'target refused the connection'));
    const stream = pair.opener.openStream(META);
    await expect(stream.accepted).rejects.toMatchObject({ code: 'TUNNEL_TARGET_REFUSED', retryable: true });
    if (!stream.closed) await once(stream, 'close');
    expect(pair.opener.activeStreams).toBe(0);
  });

  it('propagates a reset after accept both ways, with its code', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const first = pair.opener.openStream(META);
    await first.accepted;
    const firstError = errorOf(first);
    const servedFirstError = errorOf(served[0]);
    served[0].destroy(new TunnelError('TUNNEL_TCP_RESET', 'tcp connection failed (ECONNRESET)', false, 4410));
    expect(await firstError).toMatchObject({ code: 'TUNNEL_PEER_RESET', closeCode: 4410 });
    expect(await servedFirstError).toMatchObject({ code: 'TUNNEL_TCP_RESET' });

    const second = pair.opener.openStream(META);
    await second.accepted;
    const servedError = errorOf(served[1]);
    second.destroy(); // the client left mid-stream
    expect(await servedError).toMatchObject({ code: 'TUNNEL_REMOTE_ERROR', closeCode: 1001 });
    // The connection itself is unharmed.
    expect(pair.opener.canOpen).toBe(true);
  });

  it('refuses streams beyond the listener bound with 4429 and serves them again once one ended', async () => {
    pair = await openMuxPair({ acceptorMaxStreams: 2 });
    // The opener learned the bound from the accept frame.
    expect(pair.opener.maxStreams).toBe(2);
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      stream.on('error', () => undefined);
    });
    const first = pair.opener.openStream(META);
    const second = pair.opener.openStream(META);
    expect(pair.opener.canOpen).toBe(false);
    await Promise.all([first.accepted, second.accepted]);
    const closed = once(pair.opener, 'streamClosed');
    first.destroy();
    await closed;
    expect(pair.opener.canOpen).toBe(true);
    second.destroy();
  });
});
