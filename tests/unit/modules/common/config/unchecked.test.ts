import { asRecord, numberOr, sortProblems } from '../../../../../modules/common/src/config/unchecked';

describe('unchecked document helpers', () => {
  it('asRecord takes plain objects only', () => {
    expect(asRecord({ a: 1 })).toEqual({ a: 1 });
    expect(asRecord(null)).toBeUndefined();
    expect(asRecord([1])).toBeUndefined();
    expect(asRecord('x')).toBeUndefined();
  });

  it('numberOr falls back for anything but a number', () => {
    expect(numberOr(0, 5)).toBe(0);
    expect(numberOr('1', 5)).toBe(5);
    expect(numberOr(undefined, 5)).toBe(5);
  });

  it('sortProblems orders by path and keeps the order of one path', () => {
    const problems = [
      { path: '/b', message: '1' },
      { path: '', message: '2' },
      { path: '/b', message: '3' },
      { path: '/a', message: '4' },
    ];
    expect(sortProblems(problems).map((p) => p.message)).toEqual(['2', '4', '1', '3']);
    expect(problems[0]?.message).toBe('1');
  });
});
