import { isIP } from 'node:net';

/**
 * The PROXY protocol (HAProxy, versions 1 and 2): a header a proxy writes at the start of a TCP connection so the
 * server learns the original client's address. Pure encode and an incremental, bounded parse; see
 * https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt. Only TCP over IPv4/IPv6 carries addresses here;
 * `UNKNOWN` (v1) and `LOCAL` / `UNSPEC` (v2) parse as "no address".
 */

/** An IP literal and port. */
export interface SocketEndpoint {
  readonly address: string;
  readonly port: number;
}

/** A parsed header: the original source and destination, or none (`UNKNOWN`, `LOCAL`, a non-TCP family). */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly source?: SocketEndpoint;
  readonly destination?: SocketEndpoint;
}

/** Outcome of {@link parseProxyHeader}: need more bytes, a header and how many bytes it took, or why it is invalid. */
export type ProxyParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly length: number }
  | { readonly status: 'invalid'; readonly message: string };

/** PROXY protocol versions a forwarder service may emit. */
export type ProxyProtocolVersion = 'v1' | 'v2';

/** The 12-byte signature that starts every v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Longest v1 line, CRLF included (the specification's bound). */
export const PROXY_V1_MAX_LENGTH = 107;

/** Longest v2 header accepted (16-byte preamble + addresses + TLVs): larger ones are refused, not buffered. */
export const PROXY_V2_MAX_LENGTH = 16 + 1024;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/**
 * Parses a PROXY header at the start of `data`. Bounded: a v1 line longer than 107 bytes or a v2 header longer
 * than {@link PROXY_V2_MAX_LENGTH} is invalid however many bytes follow.
 */
export function parseProxyHeader(data: Buffer): ProxyParseResult {
  if (data.length === 0) return { status: 'incomplete' };
  if (data[0] === PROXY_V2_SIGNATURE[0]) return parseV2(data);
  if (data[0] === V1_PREFIX[0]) return parseV1(data);
  return { status: 'invalid', message: 'no PROXY protocol header (neither "PROXY " nor the v2 signature)' };
}

function parseV1(data: Buffer): ProxyParseResult {
  const prefixLength = Math.min(data.length, V1_PREFIX.length);
  if (!data.subarray(0, prefixLength).equals(V1_PREFIX.subarray(0, prefixLength)))
    return { status: 'invalid', message: 'no PROXY protocol header (neither "PROXY " nor the v2 signature)' };
  const end = data.subarray(0, PROXY_V1_MAX_LENGTH).indexOf('\r\n');
  if (end < 0)
    return data.length >= PROXY_V1_MAX_LENGTH
      ? { status: 'invalid', message: `PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes` }
      : { status: 'incomplete' };
  const line = data.subarray(0, end).toString('latin1');
  const length = end + 2;
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'ok', header: { version: 1 }, length };
  if (parts.length !== 6)
    return { status: 'invalid', message: `malformed PROXY v1 line "${printable(line)}"` };
  const [, family, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const wantFamily = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  if (wantFamily === 0)
    return { status: 'invalid', message: `PROXY v1: unknown protocol "${printable(family)}"` };
  if (isIP(src) !== wantFamily || isIP(dst) !== wantFamily)
    return { status: 'invalid', message: `PROXY v1: addresses are not ${family} literals` };
  const sourcePort = v1Port(sport);
  const destinationPort = v1Port(dport);
  if (sourcePort === undefined || destinationPort === undefined)
    return { status: 'invalid', message: 'PROXY v1: ports must be decimal 0-65535 without leading zeros' };
  return {
    status: 'ok',
    header: {
      version: 1,
      source: { address: src, port: sourcePort },
      destination: { address: dst, port: destinationPort },
    },
    length,
  };
}

function v1Port(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV2(data: Buffer): ProxyParseResult {
  const signatureLength = Math.min(data.length, PROXY_V2_SIGNATURE.length);
  if (!data.subarray(0, signatureLength).equals(PROXY_V2_SIGNATURE.subarray(0, signatureLength)))
    return { status: 'invalid', message: 'no PROXY protocol header (neither "PROXY " nor the v2 signature)' };
  if (data.length < 16) return { status: 'incomplete' };
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2)
    return { status: 'invalid', message: `PROXY v2: unsupported version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { status: 'invalid', message: `PROXY v2: unknown command ${command}` };
  const length = 16 + data.readUInt16BE(14);
  if (length > PROXY_V2_MAX_LENGTH)
    return {
      status: 'invalid',
      message: `PROXY v2 header of ${length} bytes exceeds ${PROXY_V2_MAX_LENGTH}`,
    };
  if (data.length < length) return { status: 'incomplete' };
  // LOCAL: the proxy's own connection (a health check); the addresses, if any, are to be ignored.
  if (command === 0) return { status: 'ok', header: { version: 2 }, length };
  const family = data[13]!;
  const body = data.subarray(16, length);
  if (family === 0x11) {
    if (body.length < 12)
      return { status: 'invalid', message: 'PROXY v2: TCP over IPv4 needs 12 address bytes' };
    return { status: 'ok', header: { version: 2, ...endpoints(body, 4) }, length };
  }
  if (family === 0x21) {
    if (body.length < 36)
      return { status: 'invalid', message: 'PROXY v2: TCP over IPv6 needs 36 address bytes' };
    return { status: 'ok', header: { version: 2, ...endpoints(body, 16) }, length };
  }
  // UNSPEC, UDP and unix families carry no TCP client address for us: accepted as "no address".
  return { status: 'ok', header: { version: 2 }, length };
}

function endpoints(body: Buffer, size: 4 | 16): { source: SocketEndpoint; destination: SocketEndpoint } {
  return {
    source: { address: ipFromBytes(body.subarray(0, size)), port: body.readUInt16BE(2 * size) },
    destination: {
      address: ipFromBytes(body.subarray(size, 2 * size)),
      port: body.readUInt16BE(2 * size + 2),
    },
  };
}

function ipFromBytes(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  // IPv4-mapped addresses are written as Node reports them for sockets (::ffff:a.b.c.d).
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes.readUInt16BE(10) === 0xffff)
    return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Normalised through URL so the text matches what Node reports for sockets (compressed zeros).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

/**
 * Encodes a header for a connection from `source` to `destination`; without a source, v1 `UNKNOWN` or v2 `LOCAL`.
 * Mixed families are sent as IPv6 (IPv4 mapped), since one header carries one family.
 */
export function encodeProxyHeader(
  version: ProxyProtocolVersion,
  source: SocketEndpoint | undefined,
  destination: SocketEndpoint | undefined,
): Buffer {
  const pair = source && destination ? sameFamily(source, destination) : undefined;
  if (version === 'v1') {
    if (!pair) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    const [src, dst, family] = pair;
    return Buffer.from(
      `PROXY TCP${family} ${src.address} ${dst.address} ${src.port} ${dst.port}\r\n`,
      'latin1',
    );
  }
  if (!pair) return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const [src, dst, family] = pair;
  const size = family === 4 ? 4 : 16;
  const head = Buffer.from([0x21, family === 4 ? 0x11 : 0x21, 0x00, 0x00]);
  const body = Buffer.alloc(2 * size + 4);
  ipToBytes(src.address, size).copy(body, 0);
  ipToBytes(dst.address, size).copy(body, size);
  body.writeUInt16BE(src.port, 2 * size);
  body.writeUInt16BE(dst.port, 2 * size + 2);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}

function sameFamily(
  a: SocketEndpoint,
  b: SocketEndpoint,
): [SocketEndpoint, SocketEndpoint, 4 | 6] | undefined {
  const fa = isIP(a.address);
  const fb = isIP(b.address);
  if (fa === 0 || fb === 0) return undefined;
  if (fa === fb) return [a, b, fa as 4 | 6];
  const mapped = (e: SocketEndpoint): SocketEndpoint =>
    isIP(e.address) === 4 ? { address: `::ffff:${e.address}`, port: e.port } : e;
  return [mapped(a), mapped(b), 6];
}

function ipToBytes(address: string, size: 4 | 16): Buffer {
  if (size === 4) return Buffer.from(address.split('.').map(Number));
  const out = Buffer.alloc(16);
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text =
      text.slice(0, -v4[1]!.length) +
      `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [
    ...headGroups,
    ...Array(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g as string, 16), 2 * i));
  return out;
}
