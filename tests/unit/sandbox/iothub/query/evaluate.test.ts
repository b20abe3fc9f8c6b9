import { JsonObject } from '../../../../../sandbox/src/iothub/json';
import { matches, project } from '../../../../../sandbox/src/iothub/query/evaluate';
import { parseExpression, parseQuery } from '../../../../../sandbox/src/iothub/query/parser';

const row: JsonObject = {
  deviceId: 'd1',
  tags: { site: 'north', level: 3, edge: true },
  properties: { reported: { version: '1.2.0' } },
};

const where = (text: string) => matches(parseExpression(text), row);

describe('query evaluation', () => {
  it('compares strings, numbers and booleans', () => {
    expect(where("tags.site = 'north'")).toBe(true);
    expect(where('tags.level > 2 AND tags.level <= 3')).toBe(true);
    expect(where('tags.edge = true')).toBe(true);
    expect(where("tags.site != 'south'")).toBe(true);
    expect(where("STARTSWITH(properties.reported.version, '1.')")).toBe(true);
  });

  it('treats comparisons with missing properties or mixed types as unknown, even under NOT and !=', () => {
    expect(where("tags.missing != 'x'")).toBe(false);
    expect(where("NOT (tags.missing = 'x')")).toBe(false);
    expect(where("tags.level = '3'")).toBe(false);
    expect(where("tags.missing = 'x' OR tags.site = 'north'")).toBe(true);
    expect(where('IS_DEFINED(tags.missing)')).toBe(false);
    expect(where('NOT IS_DEFINED(tags.missing)')).toBe(true);
  });

  it('supports IN and bare boolean paths', () => {
    expect(where("tags.site IN ['south', 'north']")).toBe(true);
    expect(where("tags.site NIN ['north']")).toBe(false);
    expect(where('tags.edge')).toBe(true);
  });

  it('projects fields and counts', () => {
    const rows = [row, { deviceId: 'd2', tags: {} }];
    expect(project(parseQuery('SELECT deviceId, tags.site FROM devices'), rows)).toEqual([
      { deviceId: 'd1', site: 'north' },
      { deviceId: 'd2' },
    ]);
    expect(project(parseQuery('SELECT COUNT() AS total FROM devices'), rows)).toEqual([{ total: 2 }]);
  });
});
