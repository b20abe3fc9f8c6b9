import { once } from 'node:events';
import WebSocket from 'ws';
import { decodeFrames, encodeFrame, MuxFrameType } from '../../../../../modules/common/src/mux/frame';
import { startMuxAcceptor, startMuxOpener } from '../../../../../modules/common/src/mux/handshake';
import { encodeOpenMeta } from '../../../../../modules/common/src/mux/open-meta';
import { MuxSession } from '../../../../../modules/common/src/mux/session';
import type { MuxStream } from '../../../../../modules/common/src/mux/stream';
import type { TunnelError } from '../../../../../modules/common/src/tunnel/errors';
import { errorOf, openMuxPair, startWsServer, type MuxPair } from '../../../../support/mux-pair';

const META = { port: 'echo', headers: {} };

/** A raw client on a listener session: it reads the accept frame and then writes whatever a test sends. */
async function rawClientOn(
  maxStreams: number,
): Promise<{ ws: WebSocket; acceptor: Promise<MuxSession>; close(): Promise<void> }> {
  let resolveAcceptor!: (session: MuxSession) => void;
  const acceptor = new Promise<MuxSession>((resolve) => (resolveAcceptor = resolve));
  const server = await startWsServer((ws) => resolveAcceptor(startMuxAcceptor(ws, maxStreams)));
  const ws = new WebSocket(server.url, { perMessageDeflate: false });
  await once(ws, 'message'); // the accept frame
  return { ws, acceptor, close: () => (ws.terminate(), server.close()) };
}

describe('mux session errors', () => {
  let pair: MuxPair | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('ends the connection on a malformed frame: GOAWAY 1002 and a close naming the problem, every stream reset', async () => {
    const raw = await rawClientOn(8);
    cleanups.push(raw.close);
    const acceptor = await raw.acceptor;
    const served = new Promise<MuxStream>((resolve) => acceptor.once('stream', resolve));
    raw.ws.send(encodeFrame(MuxFrameType.OPEN, 0, 1, encodeOpenMeta(META)));
    const stream = await served;
    stream.accept();
    const streamError = errorOf(stream);
    const sessionClosed = once(acceptor, 'close');
    const received: Buffer[] = [];
    raw.ws.on('message', (data: Buffer) => received.push(data));
    const closed = once(raw.ws, 'close');
    // A WINDOW frame of 3 bytes: the header is fine, the payload size is not.
    raw.ws.send(Buffer.from('030000000000000100000003000001', 'hex'));
    const [code, reason] = (await closed) as [number, Buffer];
    expect(code).toBe(1002);
    expect(reason.toString()).toBe('mux: WINDOW payload is not 4 bytes');
    // A message may hold several frames (the stream's ACCEPT may share one with the GOAWAY).
    const goAway = received.flatMap((m) => decodeFrames(m)).find((f) => f.type === MuxFrameType.GOAWAY)!;
    expect(goAway.payload.readUInt16BE(4)).toBe(1002);
    expect(goAway.payload.subarray(6).toString()).toBe('WINDOW payload is not 4 bytes');
    expect(await streamError).toMatchObject({ code: 'TUNNEL_PROTOCOL' });
    const [sessionError] = (await sessionClosed) as [TunnelError];
    expect(sessionError).toMatchObject({
      code: 'TUNNEL_PROTOCOL',
      message: 'mux: WINDOW payload is not 4 bytes',
    });
  });

  it.each([
    [
      'an even stream id',
      encodeFrame(MuxFrameType.OPEN, 0, 2, encodeOpenMeta(META)),
      'OPEN with even stream id 2',
    ],
    [
      'a frame for a stream never opened',
      encodeFrame(MuxFrameType.WINDOW, 0, 9, Buffer.from([0, 0, 1, 0])),
      'frame for stream 9, never opened',
    ],
    [
      'an OPEN with bad metadata',
      encodeFrame(MuxFrameType.OPEN, 0, 1, Buffer.from('{"port":""}')),
      'OPEN port name missing or longer than 255 bytes',
    ],
    [
      'DATA past the window',
      Buffer.concat([
        encodeFrame(MuxFrameType.OPEN, 0, 1, encodeOpenMeta(META)),
        ...Array.from({ length: 5 }, () => encodeFrame(MuxFrameType.DATA, 0, 1, Buffer.alloc(65536))),
      ]),
      'DATA past the window on stream 1',
    ],
  ])('treats %s as a connection error', async (_name, message, problem) => {
    const raw = await rawClientOn(8);
    cleanups.push(raw.close);
    const acceptor = await raw.acceptor;
    acceptor.on('stream', (stream) => stream.on('error', () => undefined));
    const closed = once(raw.ws, 'close');
    raw.ws.send(message);
    const [code, reason] = (await closed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1002, `mux: ${problem}`]);
  });

  it('refuses an OPEN beyond its stream bound with RESET 4429, and the opener reads TUNNEL_SERVICE_BUSY', async () => {
    const raw = await rawClientOn(1);
    cleanups.push(raw.close);
    const acceptor = await raw.acceptor;
    acceptor.on('stream', (stream) => {
      stream.accept();
      stream.on('error', () => undefined);
    });
    // An opener that ignores the announced bound (the raw socket, taken over after the accept frame).
    const opener = new MuxSession(raw.ws, { role: 'opener', maxStreams: 5 });
    const first = opener.openStream(META);
    const second = opener.openStream(META);
    await first.accepted;
    await expect(second.accepted).rejects.toMatchObject({ code: 'TUNNEL_SERVICE_BUSY', retryable: true });
    first.on('error', () => undefined);
  });

  it('resets every stream on both ends when the relay connection is lost', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const opened = Array.from({ length: 5 }, () => pair!.opener.openStream(META));
    await Promise.all(opened.map((s) => s.accepted));
    const openerErrors = Promise.all(opened.map(errorOf));
    const servedErrors = Promise.all(served.map(errorOf));
    pair.clientWs.terminate();
    for (const err of await openerErrors) expect(err).toMatchObject({ code: 'TUNNEL_RELAY_LOST' });
    for (const err of await servedErrors) expect(err).toMatchObject({ code: 'TUNNEL_RELAY_LOST' });
    expect(pair.opener.activeStreams + pair.acceptor.activeStreams).toBe(0);
  });

  it('drains on GOAWAY: no new streams, live ones finish, then the connection closes cleanly', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const live = pair.opener.openStream(META);
    await live.accepted;
    const goaway = once(pair.opener, 'goaway');
    pair.acceptor.goAway();
    await goaway;
    expect(pair.opener.canOpen).toBe(false);
    const closed = once(pair.opener, 'close');
    served[0].end(Buffer.from('bye'));
    served[0].resume();
    const chunks: Buffer[] = [];
    live.on('data', (c: Buffer) => chunks.push(c));
    await once(live, 'end');
    live.end();
    const [error] = (await closed) as [TunnelError | undefined];
    expect(error).toBeUndefined();
    expect(Buffer.concat(chunks).toString()).toBe('bye');
  });

  it('answers pings, and ends a connection whose peer stops answering', async () => {
    pair = await openMuxPair({ pingIntervalMs: 30 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pair.opener.isClosed).toBe(false);

    // A listener that accepts multiplexing and then never answers anything.
    const server = await startWsServer((ws) => ws.send('hrf:mux:1 max-streams=4'));
    cleanups.push(server.close);
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    const opener = await startMuxOpener(ws, { maxStreams: 4, pingIntervalMs: 30 });
    const [error] = (await once(opener, 'close')) as [TunnelError];
    expect(error).toMatchObject({
      code: 'TUNNEL_RELAY_LOST',
      message: 'mux connection did not answer a ping',
    });
  });

  it('takes a silent listener for one without multiplexing', async () => {
    const server = await startWsServer(() => undefined);
    cleanups.push(server.close);
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    await expect(startMuxOpener(ws, { maxStreams: 4, acceptTimeoutMs: 100 })).rejects.toMatchObject({
      code: 'TUNNEL_HANDSHAKE_TIMEOUT',
    });
    // A listener that answers with anything else (a classic preamble reply, hrf:warm) likewise.
    const other = await startWsServer((peer) => peer.send('hrf:warm'));
    cleanups.push(other.close);
    const ws2 = new WebSocket(other.url, { perMessageDeflate: false });
    await expect(startMuxOpener(ws2, { maxStreams: 4 })).rejects.toMatchObject({
      code: 'TUNNEL_HANDSHAKE_TIMEOUT',
    });
  });
});
