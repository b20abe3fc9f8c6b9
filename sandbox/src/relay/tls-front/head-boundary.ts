// The in-process relay writes an upgrade's `101 Switching Protocols` head as a TLS record of its own; the first
// WebSocket frame after it (a sender's first frame, on a listener's rendezvous socket) comes in a later record.
// A front reads the core's plaintext from a local socket, where the kernel joins writes: when the front is busy,
// the head and that frame arrive in one read, and a single tls.write would put both in one record. A ws client
// then gets the frame as its upgrade `head`, parses it before its 'open' listener has returned, and a caller
// that attaches 'message' after awaiting 'open' (ours do) never sees it. So the front cuts there, like the core.

/** Length of the blank line that ends an HTTP head. */
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Returns a function that splits the bytes of one connection, chunk by chunk, right after the end of its first
 * HTTP response head, so that the head and what follows go out as separate writes (separate TLS records).
 * Every later chunk passes through whole.
 */
export function firstHeadSplitter(): (chunk: Buffer) => Buffer[] {
  let done = false;
  // The last bytes of the previous chunk: the blank line may straddle two reads.
  let tail: Buffer = Buffer.alloc(0);
  return (chunk) => {
    if (done) return [chunk];
    const scan = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    const at = scan.indexOf(HEAD_END);
    if (at < 0) {
      tail = scan.subarray(Math.max(0, scan.length - (HEAD_END.length - 1)));
      return [chunk];
    }
    done = true;
    const cut = at + HEAD_END.length - tail.length;
    tail = Buffer.alloc(0);
    return cut >= chunk.length ? [chunk] : [chunk.subarray(0, cut), chunk.subarray(cut)];
  };
}
