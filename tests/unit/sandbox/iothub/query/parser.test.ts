import {
  parseExpression,
  parseQuery,
  parseTargetCondition,
} from '../../../../../sandbox/src/iothub/query/parser';

describe('query parser', () => {
  it('parses SELECT * with a WHERE clause, AND binding tighter than OR', () => {
    const q = parseQuery("select * from devices where tags.a = 'x' or tags.b = 1 and not IS_DEFINED(tags.c)");
    expect(q.select).toBe('*');
    expect(q.from).toBe('devices');
    expect(q.where).toEqual({
      kind: 'or',
      left: {
        kind: 'compare',
        op: '=',
        left: { kind: 'path', path: ['tags', 'a'] },
        right: { kind: 'literal', value: 'x' },
      },
      right: {
        kind: 'and',
        left: {
          kind: 'compare',
          op: '=',
          left: { kind: 'path', path: ['tags', 'b'] },
          right: { kind: 'literal', value: 1 },
        },
        right: {
          kind: 'not',
          expr: { kind: 'call', name: 'IS_DEFINED', args: [{ kind: 'path', path: ['tags', 'c'] }] },
        },
      },
    });
  });

  it('parses projections, COUNT, devices.modules, IN lists and escaped quotes', () => {
    const q = parseQuery(
      "SELECT deviceId, tags.site AS where_, COUNT() AS n FROM devices.modules WHERE tags.s IN ['a', 'it''s'] AND x <> 2",
    );
    expect(q.from).toBe('devices.modules');
    expect(q.select).toEqual([
      { kind: 'path', path: ['deviceId'], alias: 'deviceId' },
      { kind: 'path', path: ['tags', 'site'], alias: 'where_' },
      { kind: 'count', alias: 'n' },
    ]);
    expect(q.where).toMatchObject({
      kind: 'and',
      left: { kind: 'in', negated: false, values: ['a', "it's"] },
      right: { op: '!=' },
    });
  });

  it('accepts bracketed property names and NOT IN', () => {
    expect(parseExpression("tags['relay.name'] NOT IN ('a')")).toEqual({
      kind: 'in',
      negated: true,
      left: { kind: 'path', path: ['tags', 'relay.name'] },
      values: ['a'],
    });
  });

  it('reads target conditions bare, with FROM devices.modules, or as *', () => {
    expect(parseTargetCondition('*')).toEqual({ from: 'devices' });
    expect(parseTargetCondition("tags.env='prod'").from).toBe('devices');
    expect(parseTargetCondition("FROM devices.modules WHERE moduleId = 'fwd'").from).toBe('devices.modules');
  });

  it.each([
    'SELECT * FROM devices WHERE',
    'SELECT * FROM jobs',
    "SELECT * FROM devices WHERE tags.a = 'x",
    'SELECT * FROM devices WHERE a = = 1',
  ])('refuses %j with ArgumentInvalid', (text) =>
    expect(() => parseQuery(text)).toThrow(expect.objectContaining({ code: 'ArgumentInvalid' })),
  );
});
