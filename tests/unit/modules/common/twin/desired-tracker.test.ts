import { DesiredTracker } from '../../../../../modules/common/src/twin/desired-tracker';

describe('DesiredTracker', () => {
  it('takes a full read, then merges patches that follow it, version by version', () => {
    const tracker = new DesiredTracker();
    expect(tracker.full({ $version: 3, schemaVersion: 1, routes: { a: { port: 1 } } }, 'connect')).toEqual({
      kind: 'changed',
      desired: { document: { schemaVersion: 1, routes: { a: { port: 1 } } }, version: 3, cause: 'connect' },
    });
    expect(tracker.patch({ $version: 4, routes: { b: { port: 2 } } })).toEqual({
      kind: 'changed',
      desired: {
        document: { schemaVersion: 1, routes: { a: { port: 1 }, b: { port: 2 } } },
        version: 4,
        cause: 'patch',
      },
    });
    expect(tracker.patch({ $version: 5, routes: { a: null } })).toMatchObject({
      kind: 'changed',
      desired: { document: { schemaVersion: 1, routes: { b: { port: 2 } } }, version: 5 },
    });
    expect(tracker.version).toBe(5);
  });

  it('ignores a patch already contained in the document (it raced the full read)', () => {
    const tracker = new DesiredTracker();
    tracker.full({ $version: 5, a: 1 }, 'connect');
    expect(tracker.patch({ $version: 5, a: 1 })).toEqual({ kind: 'unchanged' });
    expect(tracker.patch({ $version: 4, a: 0 })).toEqual({ kind: 'unchanged' });
    expect(tracker.document).toEqual({ a: 1 });
  });

  it('asks for a full read when a patch skips a version, has none, or comes before any read', () => {
    const tracker = new DesiredTracker();
    expect(tracker.patch({ $version: 1, a: 1 })).toEqual({ kind: 'gap', expected: undefined, received: 1 });
    tracker.full({ $version: 2, a: 1 }, 'connect');
    expect(tracker.patch({ $version: 4, b: 1 })).toEqual({ kind: 'gap', expected: 3, received: 4 });
    expect(tracker.patch({ b: 1 })).toEqual({ kind: 'gap', expected: 3, received: undefined });
    expect(tracker.document).toEqual({ a: 1 });
  });

  it('reports a re-read with the same version and content as unchanged, and takes a different one as truth', () => {
    const tracker = new DesiredTracker();
    tracker.full({ $version: 2, a: 1 }, 'connect');
    expect(tracker.full({ $version: 2, a: 1 }, 'resync')).toEqual({ kind: 'unchanged' });
    // A hub restored from older state: the full read wins even with a lower version.
    expect(tracker.full({ $version: 1, a: 0 }, 'connect')).toMatchObject({
      kind: 'changed',
      desired: { version: 1 },
    });
  });
});
