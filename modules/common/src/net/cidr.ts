import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number: 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** One CIDR block, e.g. `10.0.0.0/8` or `2001:db8::/32`. */
export interface CidrBlock {
  readonly family: 4 | 6;
  /** The network address (host bits zero). */
  readonly network: bigint;
  readonly prefixLength: number;
  /** The block as written in the configuration. */
  readonly text: string;
}

/** Outcome of parseCidr: the block, or a message saying what is wrong with the text. */
export type CidrParseResult =
  { readonly ok: true; readonly block: CidrBlock } | { readonly ok: false; readonly message: string };

/** A problem in one entry of an allow-list, located by its index. */
export interface CidrListProblem {
  readonly index: number;
  readonly message: string;
}

const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96 holds IPv4-mapped IPv6 addresses
const BITS: Record<4 | 6, number> = { 4: 32, 6: 128 };

/**
 * Parses an IP address as a socket reports it. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
 * dual-stack listener reports for an IPv4 client) is returned as the IPv4 address it carries; a zone
 * (`fe80::1%eth0`) is ignored. Undefined when the text is not an address.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: parseIPv4(text) };
  const percent = text.indexOf('%');
  const bare = percent >= 0 ? text.slice(0, percent) : text;
  if (!isIPv6(bare)) return undefined;
  return unmap(parseIPv6(bare));
}

/**
 * Parses `address/prefix` (or a bare address, meaning a single host). IPv4-mapped IPv6 blocks with a prefix
 * of at least 96 become the IPv4 block they describe. A block with host bits set is refused, since it is
 * most often a typo (`10.0.0.1/8` for `10.0.0.0/8`).
 */
export function parseCidr(text: string): CidrParseResult {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const prefixText = slash >= 0 ? trimmed.slice(slash + 1) : undefined;
  if (addressText.includes('%'))
    return { ok: false, message: `"${text}": a zone (%…) is not allowed in an allow-list` };
  let family: 4 | 6;
  let value: bigint;
  if (isIPv4(addressText)) [family, value] = [4, parseIPv4(addressText)];
  else if (isIPv6(addressText)) [family, value] = [6, parseIPv6(addressText)];
  else return { ok: false, message: `"${text}" is not an IPv4 or IPv6 address or CIDR block` };

  let prefixLength = BITS[family];
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > BITS[family])
      return { ok: false, message: `"${text}": the prefix length must be 0…${BITS[family]}` };
    prefixLength = Number(prefixText);
  }
  if (family === 6 && value >> 32n === MAPPED_PREFIX && prefixLength >= 96) {
    [family, value, prefixLength] = [4, value & 0xffffffffn, prefixLength - 96];
  }
  const network = value & mask(family, prefixLength);
  if (network !== value) {
    const suggestion = `${formatAddress(family, network)}/${prefixLength}`;
    return {
      ok: false,
      message: `"${text}" has host bits set beyond the /${prefixLength} prefix (did you mean ${suggestion}?)`,
    };
  }
  return { ok: true, block: { family, network, prefixLength, text: trimmed } };
}

/** True when the address lies in the block (families must match: IPv4 rules match IPv4 and IPv4-mapped clients). */
export function cidrContains(block: CidrBlock, address: IpAddress): boolean {
  return (
    block.family === address.family &&
    (address.value & mask(block.family, block.prefixLength)) === block.network
  );
}

/**
 * An allow-list of CIDR blocks. IPv4 and IPv6 are separate families: `0.0.0.0/0` allows every IPv4 client
 * (including those a dual-stack socket reports as `::ffff:a.b.c.d`) and `::/0` every IPv6 client.
 */
export class CidrAllowList {
  private constructor(readonly blocks: readonly CidrBlock[]) {}

  /** Compiles every entry, reporting each bad one by its index (nothing is compiled unless all are good). */
  static compile(
    entries: readonly string[],
  ):
    | { readonly ok: true; readonly list: CidrAllowList }
    | { readonly ok: false; readonly problems: CidrListProblem[] } {
    const blocks: CidrBlock[] = [];
    const problems: CidrListProblem[] = [];
    entries.forEach((entry, index) => {
      const parsed = parseCidr(entry);
      if (parsed.ok) blocks.push(parsed.block);
      else problems.push({ index, message: parsed.message });
    });
    return problems.length > 0 ? { ok: false, problems } : { ok: true, list: new CidrAllowList(blocks) };
  }

  /** Whether a client address (as `socket.remoteAddress` gives it) is allowed; unparsable or missing → false. */
  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    const ip = parseIpAddress(address);
    return ip !== undefined && this.blocks.some((block) => cidrContains(block, ip));
  }
}

function mask(family: 4 | 6, prefixLength: number): bigint {
  const bits = BITS[family];
  const all = (1n << BigInt(bits)) - 1n;
  return (all << BigInt(bits - prefixLength)) & all;
}

function unmap(value: bigint): IpAddress {
  return value >> 32n === MAPPED_PREFIX ? { family: 4, value: value & 0xffffffffn } : { family: 6, value };
}

function parseIPv4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

// Input is already validated by isIPv6: groups of hex, at most one "::", optionally a dotted IPv4 tail.
function parseIPv6(text: string): bigint {
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = Number(parseIPv4(piece));
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const doubleColon = text.indexOf('::');
  let words: number[];
  if (doubleColon >= 0) {
    const head = groups(text.slice(0, doubleColon));
    const tail = groups(text.slice(doubleColon + 2));
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else words = groups(text);
  return words.reduce((acc, word) => (acc << 16n) | BigInt(word), 0n);
}

function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const words: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(((value >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero words, as RFC 5952 recommends.
  const joined = `:${words.join(':')}:`;
  const runs = joined.match(/(?::0)+:/g) ?? [];
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), '');
  const compressed = longest.length > 3 ? joined.replace(longest, '::') : joined;
  return compressed.replace(/^:(?!:)/, '').replace(/(?<!:):$/, '');
}
