import {
  applyMergePatch,
  diffMergePatch,
  getAtPath,
  JsonObject,
  setAtPath,
} from '../../../../sandbox/src/iothub/json';

describe('JSON merge patch', () => {
  it('merges objects, deletes on null and replaces arrays', () => {
    const doc: JsonObject = { a: 1, nested: { keep: true, drop: 'x' }, list: [1, 2] };
    applyMergePatch(doc, { nested: { drop: null, add: 3 }, list: [3], b: { c: 'd' } });
    expect(doc).toEqual({ a: 1, nested: { keep: true, add: 3 }, list: [3], b: { c: 'd' } });
  });

  it('does not share patch objects with the target', () => {
    const patch: JsonObject = { obj: { v: 1 } };
    const doc: JsonObject = {};
    applyMergePatch(doc, patch);
    (patch.obj as JsonObject).v = 2;
    expect(doc).toEqual({ obj: { v: 1 } });
  });

  it('diffs two documents into the patch that turns one into the other', () => {
    const from: JsonObject = { a: 1, b: { c: 1, d: 2 }, e: [1], gone: true };
    const to: JsonObject = { a: 1, b: { c: 1, d: 3 }, e: [1, 2], added: 'x' };
    const patch = diffMergePatch(from, to);
    expect(patch).toEqual({ b: { d: 3 }, e: [1, 2], added: 'x', gone: null });
    const applied = structuredClone(from);
    applyMergePatch(applied, patch ?? {});
    expect(applied).toEqual(to);
    expect(diffMergePatch(to, structuredClone(to))).toBeUndefined();
  });

  it('sets and reads dotted paths', () => {
    const doc: JsonObject = { routes: 'scalar' };
    setAtPath(doc, ['routes', 'db', 'port'], 1433);
    expect(doc).toEqual({ routes: { db: { port: 1433 } } });
    expect(getAtPath(doc, ['routes', 'db', 'port'])).toBe(1433);
    expect(getAtPath(doc, ['routes', 'web'])).toBeUndefined();
  });
});
