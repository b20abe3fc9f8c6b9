import {
  applyMergePatch,
  diffMergePatch,
  splitSystemKeys,
} from '../../../../../modules/common/src/twin/merge-patch';

describe('applyMergePatch', () => {
  it('merges maps key by key, deletes on null, replaces arrays and scalars whole', () => {
    const target = {
      routes: { a: { port: 1, allow: ['10.0.0.0/8', '192.168.0.0/16'] }, b: { port: 2 } },
      logLevel: 'info',
    };
    const patch = {
      routes: { a: { allow: ['127.0.0.0/8'] }, b: null, c: { port: 3, extra: null } },
      logLevel: 'debug',
    };
    expect(applyMergePatch(target, patch)).toEqual({
      routes: { a: { port: 1, allow: ['127.0.0.0/8'] }, c: { port: 3 } },
      logLevel: 'debug',
    });
  });

  it('changes neither input', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    const result = applyMergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
    (result.a as Record<string, unknown>).b = 9;
    expect(target.a.b).toBe(1);
  });

  it('replaces a scalar with an object and an object with a scalar', () => {
    expect(applyMergePatch({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 })).toEqual({ a: { x: 1 }, b: 2 });
  });
});

describe('diffMergePatch', () => {
  it('gives the smallest patch, with null for removed keys', () => {
    const before = {
      config: { status: 'applied', version: 3 },
      routes: { a: { status: 'listening' }, b: { status: 'refused' } },
    };
    const after = {
      config: { status: 'applied', version: 4 },
      routes: { a: { status: 'listening' }, c: { status: 'starting' } },
    };
    expect(diffMergePatch(before, after)).toEqual({
      config: { version: 4 },
      routes: { b: null, c: { status: 'starting' } },
    });
  });

  it('is undefined for equal documents (key order does not matter)', () => {
    expect(diffMergePatch({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBeUndefined();
  });

  it('replaces a changed array whole', () => {
    expect(diffMergePatch({ a: [1, 2, 3] }, { a: [1, 2] })).toEqual({ a: [1, 2] });
  });

  it('round-trips: applying the diff to before gives after', () => {
    const before = { a: { b: { c: 1, d: 2 }, e: [1] }, f: 'x', g: { h: 1 } };
    const after = { a: { b: { c: 1 }, e: [2], n: { m: true } }, g: 5 };
    expect(applyMergePatch(before, diffMergePatch(before, after)!)).toEqual(after);
  });
});

describe('splitSystemKeys', () => {
  it('takes $version out and drops every other $ key and non-JSON values', () => {
    const section = {
      $version: 7,
      $metadata: { $lastUpdated: 'x' },
      schemaVersion: 1,
      update: () => undefined,
    };
    expect(splitSystemKeys(section)).toEqual({ document: { schemaVersion: 1 }, version: 7 });
  });

  it('gives an empty document for anything that is not an object', () => {
    expect(splitSystemKeys(undefined)).toEqual({ document: {}, version: undefined });
    expect(splitSystemKeys([1])).toEqual({ document: {}, version: undefined });
  });
});
