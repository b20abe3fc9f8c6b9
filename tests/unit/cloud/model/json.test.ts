import {
  applyMergePatch,
  diffMergePatch,
  jsonEqual,
  withoutSystemKeys,
} from '../../../../cloud/src/model/json';

describe('controller JSON helpers', () => {
  it('diffs two documents into the merge patch that turns one into the other', () => {
    const from = { a: 1, b: { c: 2, d: [1, 2] }, gone: true, same: { x: 1 } };
    const to = { a: 2, b: { c: 2, d: [1, 3], e: 'new' }, same: { x: 1 } };
    const patch = diffMergePatch(from, to);
    expect(patch).toEqual({ a: 2, b: { d: [1, 3], e: 'new' }, gone: null });
    expect(applyMergePatch(from, patch!)).toEqual(to);
    expect(diffMergePatch(to, to)).toBeUndefined();
  });

  it('replaces a value that changes type whole', () => {
    expect(diffMergePatch({ a: { b: 1 } }, { a: 'flat' })).toEqual({ a: 'flat' });
    expect(diffMergePatch({ a: 'flat' }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });

  it('compares objects regardless of key order, arrays in order', () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as never })).toBe(false);
  });

  it("drops IoT Hub's $version and $metadata from a section", () => {
    expect(withoutSystemKeys({ $version: 4, $metadata: {}, routes: {} })).toEqual({ routes: {} });
    expect(withoutSystemKeys(null)).toEqual({});
  });
});
