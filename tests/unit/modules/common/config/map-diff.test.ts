import { diffMaps } from '../../../../../modules/common/src/config/map-diff';

describe('diffMaps', () => {
  it("sorts keys by fate: removed in before's order, the others in after's order", () => {
    const before = new Map([
      ['gone', 1],
      ['same', 2],
      ['other', 3],
      ['moved', 4],
    ]);
    const after = new Map([
      ['moved', 5],
      ['new', 6],
      ['same', 2],
      ['fresh', 7],
    ]);
    expect(diffMaps(before, after, (a, b) => a === b)).toEqual({
      added: ['new', 'fresh'],
      removed: ['gone', 'other'],
      changed: ['moved'],
      unchanged: ['same'],
    });
  });

  it('asks `same` only about keys in both maps, with the before value first', () => {
    const calls: Array<[string, string]> = [];
    const result = diffMaps(
      new Map([
        ['a', 'a1'],
        ['b', 'b1'],
      ]),
      new Map([
        ['b', 'b2'],
        ['c', 'c2'],
      ]),
      (x, y) => {
        calls.push([x, y]);
        return true;
      },
    );
    expect(calls).toEqual([['b1', 'b2']]);
    expect(result.unchanged).toEqual(['b']);
  });
});
