// A TCP target that parses a PROXY protocol header itself (written from the spec, independent of the module's
// parser), hashes every byte after it, and answers with a JSON line when the client half-closes.
import { createHash } from 'node:crypto';
import { startTcpServer, type TestTcpServer } from './tunnel-harness';

/** What a PROXY-aware target saw: the announced source, and the sha256 of the bytes after the header. */
export interface ProxySeen {
  readonly version: number;
  readonly source: string;
  readonly sha256: string;
}

/** The PROXY v2 signature (12 bytes), for tests that build their own headers. */
export const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** Splits a PROXY header off the stream start (undefined: more bytes needed). */
function splitProxyHeader(data: Buffer): { version: number; source: string; rest: Buffer } | undefined {
  if (data.subarray(0, 12).equals(V2_SIGNATURE)) {
    if (data.length < 16) return undefined;
    const len = 16 + data.readUInt16BE(14);
    if (data.length < len) return undefined;
    const fam = data[13];
    let source = 'local';
    if (data[12] === 0x21 && fam === 0x11)
      source = `${Array.from(data.subarray(16, 20)).join('.')}:${data.readUInt16BE(24)}`;
    if (data[12] === 0x21 && fam === 0x21) source = `v6:${data.readUInt16BE(16 + 32)}`;
    return { version: 2, source, rest: data.subarray(len) };
  }
  const looksV1 = data.subarray(0, 6).toString('latin1') === 'PROXY '.slice(0, Math.min(6, data.length));
  const looksV2 = data.subarray(0, 12).equals(V2_SIGNATURE.subarray(0, Math.min(12, data.length)));
  if (!looksV1 && !looksV2) return { version: 0, source: 'none', rest: data };
  const end = data.indexOf('\r\n');
  if (end < 0) return undefined;
  const parts = data.subarray(0, end).toString('latin1').split(' ');
  const source = parts[1] === 'UNKNOWN' ? 'unknown' : `${parts[2]}:${parts[4]}`;
  return { version: 1, source, rest: data.subarray(end + 2) };
}

/** Starts the target on an ephemeral loopback port. */
export async function startProxyAwareTarget(): Promise<TestTcpServer> {
  return startTcpServer((socket) => {
    let buffered = Buffer.alloc(0);
    let split: ReturnType<typeof splitProxyHeader>;
    const hash = createHash('sha256');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (split) return void hash.update(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      split = splitProxyHeader(buffered);
      if (split) hash.update(split.rest);
    });
    socket.on('end', () => {
      const seen: ProxySeen = {
        version: split?.version ?? 0,
        source: split?.source ?? 'none',
        sha256: hash.digest('hex'),
      };
      socket.end(JSON.stringify(seen));
    });
  });
}
