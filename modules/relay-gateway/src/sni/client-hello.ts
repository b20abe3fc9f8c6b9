/**
 * Reads the server name (SNI) from a TLS ClientHello without terminating TLS: TLS records of type 22
 * (handshake), a handshake message of type 1, its extensions, extension 0 (server_name, RFC 6066 §3) with a
 * host_name entry. The handshake message may span several records. Pure and incremental; bounded by
 * {@link CLIENT_HELLO_MAX_BYTES}.
 */

/** Outcome of {@link parseClientHello}: need more bytes, the name (absent when the client sent none), or why not TLS. */
export type ClientHelloResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'ok'; readonly serverName?: string }
  | { readonly status: 'invalid'; readonly message: string };

/** Most bytes read before giving up: a ClientHello bigger than one maximal record plus headers is refused. */
export const CLIENT_HELLO_MAX_BYTES = 16_384 + 5 * 4;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;

/** Parses the start of a connection as a TLS ClientHello. */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Reassemble the handshake bytes from consecutive handshake records.
  const fragments: Buffer[] = [];
  let handshakeLength = 0;
  let offset = 0;
  let needed = -1;
  while (needed < 0 || handshakeLength < needed) {
    if (data.length < offset + 5) return tooBig(data) ?? { status: 'incomplete' };
    if (data[offset] !== RECORD_HANDSHAKE)
      return invalid(
        offset === 0
          ? 'not a TLS handshake record (no ClientHello)'
          : 'non-handshake record inside the ClientHello',
      );
    if (data[offset + 1] !== 3) return invalid('not a TLS record (major version is not 3)');
    const recordLength = data.readUInt16BE(offset + 3);
    if (recordLength === 0 || recordLength > 16_384)
      return invalid(`TLS record length ${recordLength} out of range`);
    if (data.length < offset + 5 + recordLength) return tooBig(data) ?? { status: 'incomplete' };
    const fragment = data.subarray(offset + 5, offset + 5 + recordLength);
    fragments.push(fragment);
    handshakeLength += fragment.length;
    offset += 5 + recordLength;
    if (needed < 0 && handshakeLength >= 4) {
      const head = fragments.length === 1 ? fragment : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO)
        return invalid(`first handshake message is type ${head[0]}, not ClientHello`);
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > CLIENT_HELLO_MAX_BYTES)
        return invalid(`ClientHello of ${needed} bytes exceeds ${CLIENT_HELLO_MAX_BYTES}`);
    }
  }
  const hello = Buffer.concat(fragments).subarray(4, needed);
  return readServerName(hello);
}

function readServerName(hello: Buffer): ClientHelloResult {
  const r = new Reader(hello);
  r.skip(2 + 32); // client_version, random
  r.skip(r.u8()); // session_id
  r.skip(r.u16()); // cipher_suites
  r.skip(r.u8()); // compression_methods
  if (r.failed) return invalid('truncated ClientHello');
  if (r.remaining === 0) return { status: 'ok' }; // no extensions at all
  const extensionsLength = r.u16();
  const extensionsEnd = r.offset + extensionsLength;
  if (r.failed || extensionsEnd > hello.length) return invalid('ClientHello extensions overrun the message');
  while (r.offset + 4 <= extensionsEnd) {
    const type = r.u16();
    const length = r.u16();
    const end = r.offset + length;
    if (end > extensionsEnd) return invalid('a ClientHello extension overruns the extension block');
    if (type === EXTENSION_SERVER_NAME) return readServerNameList(hello.subarray(r.offset, end));
    r.skip(length);
  }
  return { status: 'ok' };
}

function readServerNameList(ext: Buffer): ClientHelloResult {
  const r = new Reader(ext);
  const listEnd = 2 + r.u16();
  if (r.failed || listEnd > ext.length) return invalid('malformed server_name extension');
  while (r.offset + 3 <= listEnd) {
    const nameType = r.u8();
    const length = r.u16();
    if (r.offset + length > listEnd) return invalid('malformed server_name extension');
    if (nameType !== 0) {
      r.skip(length);
      continue;
    }
    const name = ext.subarray(r.offset, r.offset + length).toString('latin1');
    // RFC 6066: a DNS host name in ASCII, no trailing dot; anything else is not routable.
    if (length === 0 || length > 253 || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name))
      return invalid('server_name is not a DNS host name');
    return { status: 'ok', serverName: name.toLowerCase() };
  }
  return { status: 'ok' };
}

function invalid(message: string): ClientHelloResult {
  return { status: 'invalid', message };
}

function tooBig(data: Buffer): ClientHelloResult | undefined {
  return data.length >= CLIENT_HELLO_MAX_BYTES
    ? invalid(`no complete ClientHello in ${CLIENT_HELLO_MAX_BYTES} bytes`)
    : undefined;
}

/** A bounds-checked big-endian reader: an overrun sets `failed` instead of throwing. */
class Reader {
  offset = 0;
  failed = false;

  constructor(private readonly data: Buffer) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  u8(): number {
    return this.take(1) ? this.data[this.offset - 1]! : 0;
  }

  u16(): number {
    return this.take(2) ? this.data.readUInt16BE(this.offset - 2) : 0;
  }

  skip(n: number): void {
    this.take(n);
  }

  private take(n: number): boolean {
    if (this.failed || this.offset + n > this.data.length) {
      this.failed = true;
      return false;
    }
    this.offset += n;
    return true;
  }
}
