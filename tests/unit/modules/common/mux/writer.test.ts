import {
  decodeFrames,
  FLAG_FIN,
  MuxFrameType,
  type MuxFrame,
} from '../../../../../modules/common/src/mux/frame';
import type { MuxStream } from '../../../../../modules/common/src/mux/stream';
import { MUX_BATCH_BYTES, MUX_QUANTUM_BYTES } from '../../../../../modules/common/src/mux/writer';
import { openMuxPair, readAll, type MuxPair } from '../../../../support/mux-pair';
import { patternBytes, sha256 } from '../../../../support/tunnel-harness';

const META = { port: 'echo', headers: {} };

/** Every message the acceptor's WebSocket receives, decoded, in order. */
function recordMessages(pair: MuxPair): MuxFrame[][] {
  const messages: MuxFrame[][] = [];
  pair.serverWs.on('message', (data: Buffer) => messages.push(decodeFrames(Buffer.from(data))));
  return messages;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('mux writer', () => {
  let pair: MuxPair;
  afterEach(async () => {
    await pair?.close();
  });

  it('sends the frames queued in one turn as one WebSocket message', async () => {
    pair = await openMuxPair();
    const messages = recordMessages(pair);
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.on('error', () => undefined); // reset below
      served.push(stream);
    });
    const streams = Array.from({ length: 8 }, () => pair.opener.openStream(META));
    await until(() => served.length === 8);
    // Eight OPEN frames opened in the same turn: one message (one TLS record, one relay message), not eight.
    expect(messages).toHaveLength(1);
    expect(messages[0]!.map((f) => f.type)).toEqual(Array(8).fill(MuxFrameType.OPEN));
    for (const stream of served) stream.accept();
    await Promise.all(streams.map((s) => s.accepted));
    for (const stream of streams) stream.destroy();
  });

  it('interleaves streams: a byte written beside a bulk write waits behind at most one message of it', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const bulk = pair.opener.openStream(META);
    const interactive = pair.opener.openStream(META);
    await Promise.all([bulk.accepted, interactive.accepted]);
    const messages = recordMessages(pair);
    const bulkData = patternBytes(1024 * 1024, 3);
    const bulkRead = readAll(served[0]!);
    // The bulk stream's whole window (256 KiB) could go at once; the interactive byte comes right after it.
    bulk.end(bulkData);
    interactive.write(Buffer.from('x'));
    await until(() => messages.some((m) => m.some((f) => f.streamId === interactive.id)));
    const frames = messages.flat();
    const at = frames.findIndex((f) => f.streamId === interactive.id);
    const bulkAhead = frames
      .slice(0, at)
      .filter((f) => f.streamId === bulk.id)
      .reduce((sum, f) => sum + f.payload.length, 0);
    expect(bulkAhead).toBeLessThanOrEqual(MUX_BATCH_BYTES);
    // Frames are bounded per turn while two streams wait, so the two share each message.
    expect(frames.filter((f) => f.streamId === bulk.id).every((f) => f.payload.length <= 64 * 1024)).toBe(
      true,
    );
    expect(sha256(await bulkRead)).toBe(sha256(bulkData));
    interactive.end();
    served[1]!.end();
    await Promise.all([readAll(served[1]!), readAll(interactive), readAll(bulk), served[0]!.end()]);
  });

  it('gives each waiting stream a turn of at least the quantum, and one stream alone whole 64 KiB frames', async () => {
    pair = await openMuxPair();
    const served: MuxStream[] = [];
    pair.acceptor.on('stream', (stream) => {
      stream.accept();
      served.push(stream);
    });
    const streams = [pair.opener.openStream(META), pair.opener.openStream(META)];
    await Promise.all(streams.map((s) => s.accepted));
    const messages = recordMessages(pair);
    const data = patternBytes(200 * 1024, 5);
    const reads = served.map((s) => readAll(s));
    streams[0]!.end(data);
    streams[1]!.end(data);
    for (const read of reads) expect(sha256(await read)).toBe(sha256(data));
    const first = messages[0]!;
    // Both streams in the first message, each with a share of it (never below the quantum).
    expect(new Set(first.map((f) => f.streamId))).toEqual(new Set(streams.map((s) => s.id)));
    for (const frame of first) expect(frame.payload.length).toBeGreaterThanOrEqual(MUX_QUANTUM_BYTES);

    const alone = pair.opener.openStream(META);
    await alone.accepted;
    const before = messages.length;
    const aloneRead = readAll(served[2]!);
    alone.end(data);
    expect(sha256(await aloneRead)).toBe(sha256(data));
    const aloneFrames = messages
      .slice(before)
      .flat()
      .filter((f) => f.streamId === alone.id);
    expect(aloneFrames[0]!.payload.length).toBe(64 * 1024);
    for (const s of served) s.end();
    await Promise.all([...streams, alone].map((s) => readAll(s)));
  });

  it('carries FIN on the last DATA frame when the stream ended with its last write', async () => {
    pair = await openMuxPair();
    const served = new Promise<MuxStream>((resolve) =>
      pair.acceptor.once('stream', (stream) => {
        stream.accept();
        resolve(stream);
      }),
    );
    const stream = pair.opener.openStream(META);
    await stream.accepted;
    const messages = recordMessages(pair);
    stream.end(Buffer.from('request'));
    const request = await readAll(await served);
    expect(request.toString()).toBe('request');
    const frames = messages.flat().filter((f) => f.streamId === stream.id);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: MuxFrameType.DATA, flags: FLAG_FIN });
    (await served).end();
    await readAll(stream);
  });
});
