import { encodeEntityPath, parseHcTarget } from '../../../../sandbox/src/relay/request-target';

describe('parseHcTarget', () => {
  it('reads path, action, id and the query to pass on', () => {
    const t = parseHcTarget(
      '/$hc/site-a/db/extra?x=1&sb-hc-action=connect&sb-hc-id=abc&sb-hc-token=secret&y=2',
    )!;
    expect(t.entityPath).toBe('site-a/db/extra');
    expect(t.action).toBe('connect');
    expect(t.id).toBe('abc');
    expect(t.query.get('sb-hc-token')).toBe('secret');
    expect(t.forwardedQuery).toBe('x=1&y=2');
  });

  it('decodes percent-encoded paths, including an encoded $', () => {
    expect(parseHcTarget('/%24hc/my%20hc?sb-hc-action=listen')!.entityPath).toBe('my hc');
    expect(parseHcTarget('/$hc/a%2Fb')!.entityPath).toBe('a/b');
  });

  it('ignores a trailing slash', () => {
    expect(parseHcTarget('/$hc/hc1/')!.entityPath).toBe('hc1');
  });

  it.each([undefined, '/', '/hc1', '/$hc/', '/$hc/a//b', '/$hc/%E0%A4%A'])('refuses %p', (url) => {
    expect(parseHcTarget(url)).toBeUndefined();
  });

  it('leaves action and id undefined when absent', () => {
    const t = parseHcTarget('/$hc/hc1')!;
    expect(t.action).toBeUndefined();
    expect(t.id).toBeUndefined();
    expect(t.forwardedQuery).toBe('');
  });
});

describe('encodeEntityPath', () => {
  it('encodes each segment and keeps the separators', () => {
    expect(encodeEntityPath('a b/c?d')).toBe('a%20b/c%3Fd');
  });
});
