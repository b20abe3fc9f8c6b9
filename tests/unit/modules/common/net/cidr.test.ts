import { CidrAllowList, parseCidr, parseIpAddress } from '../../../../../modules/common/src/net/cidr';

function allowList(...entries: string[]): CidrAllowList {
  const compiled = CidrAllowList.compile(entries);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.list;
}

describe('parseIpAddress', () => {
  it.each([
    ['10.1.2.3', 4, 0x0a010203n],
    ['::1', 6, 1n],
    ['::ffff:192.168.0.1', 4, 0xc0a80001n],
    ['::FFFF:c0a8:1', 4, 0xc0a80001n],
    ['2001:db8::8:800:200c:417a', 6, 0x20010db80000000000080800200c417an],
    ['fe80::1%eth0', 6, 0xfe800000000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['64:ff9b::10.0.0.1', 6, 0x0064ff9b00000000000000000a000001n],
  ])('parses %s', (text, family, value) => {
    expect(parseIpAddress(text)).toEqual({ family, value });
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.256', '::g', '1::2::3'])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', 4, 8],
    ['192.168.1.7', 4, 32],
    ['0.0.0.0/0', 4, 0],
    ['2001:db8::/32', 6, 32],
    ['::/0', 6, 0],
    ['::1', 6, 128],
    ['::ffff:10.0.0.0/104', 4, 8],
    ['::ffff:0:0/96', 4, 0],
    [' 10.0.0.0/8 ', 4, 8],
  ])('parses %j', (text, family, prefixLength) => {
    const parsed = parseCidr(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect([parsed.block.family, parsed.block.prefixLength]).toEqual([family, prefixLength]);
  });

  it.each([
    ['10.0.0.0/33', 'prefix length must be 0…32'],
    ['2001:db8::/129', 'prefix length must be 0…128'],
    ['10.0.0.0/', 'prefix length'],
    ['10.0.0.0/08', 'prefix length'],
    ['10.0.0.0/-1', 'prefix length'],
    ['10.0.0/8', 'is not an IPv4 or IPv6 address'],
    ['example.com/24', 'is not an IPv4 or IPv6 address'],
    ['fe80::/10%eth0', 'prefix length'],
    ['fe80::1%eth0', 'zone'],
    ['10.0.0.1/8', 'did you mean 10.0.0.0/8?'],
    ['2001:db8::1/32', 'did you mean 2001:db8::/32?'],
    ['2001:db8:0:1::/48', 'did you mean 2001:db8::/48?'],
  ])('refuses %j', (text, message) => {
    const parsed = parseCidr(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});

describe('CidrAllowList', () => {
  it('matches IPv4 clients, including those reported as IPv4-mapped IPv6', () => {
    const list = allowList('10.0.0.0/8', '192.168.1.7');
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('::ffff:10.200.3.4')).toBe(true);
    expect(list.allows('192.168.1.7')).toBe(true);
    expect(list.allows('192.168.1.8')).toBe(false);
    expect(list.allows('11.0.0.1')).toBe(false);
    expect(list.allows('::ffff:11.0.0.1')).toBe(false);
  });

  it('matches IPv6 clients, ignoring a zone', () => {
    const list = allowList('2001:db8::/32', 'fe80::/10');
    expect(list.allows('2001:db8:ffff::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows('fe80::abcd%eth0')).toBe(true);
  });

  it('keeps the families apart: ::/0 allows IPv6 only, 0.0.0.0/0 IPv4 only', () => {
    const v6 = allowList('::/0');
    expect(v6.allows('::1')).toBe(true);
    expect(v6.allows('127.0.0.1')).toBe(false);
    expect(v6.allows('::ffff:127.0.0.1')).toBe(false);
    const v4 = allowList('0.0.0.0/0');
    expect(v4.allows('8.8.8.8')).toBe(true);
    expect(v4.allows('::ffff:8.8.8.8')).toBe(true);
    expect(v4.allows('::1')).toBe(false);
  });

  it('accepts an IPv4 rule written in mapped form', () => {
    const list = allowList('::ffff:127.0.0.0/104');
    expect(list.allows('127.0.0.1')).toBe(true);
    expect(list.allows('::ffff:127.9.9.9')).toBe(true);
    expect(list.allows('128.0.0.1')).toBe(false);
  });

  it('refuses missing or unparsable client addresses', () => {
    const list = allowList('0.0.0.0/0', '::/0');
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('not-an-ip')).toBe(false);
  });

  it('reports every bad entry by index and compiles nothing', () => {
    const compiled = CidrAllowList.compile(['10.0.0.0/8', 'nope', '10.0.0.1/8', '::/0']);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.problems.map((p) => p.index)).toEqual([1, 2]);
  });
});
