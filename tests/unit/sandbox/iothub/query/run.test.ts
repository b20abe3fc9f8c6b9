import { runQuery } from '../../../../../sandbox/src/iothub/query/run';
import { Registry } from '../../../../../sandbox/src/iothub/registry';

describe('query runner', () => {
  const registry = new Registry();
  for (const id of ['c', 'a', 'b', 'd', 'e']) {
    registry.putDevice(id, {});
    registry.patchTwin(id, undefined, { tags: { group: id < 'd' ? 'x' : 'y' } });
  }
  registry.putModule('a', 'm', {});

  it('returns rows in id order, page by page, with a token bound to the query', () => {
    const sql = "SELECT * FROM devices WHERE tags.group = 'x'";
    const first = runQuery(registry, sql, { pageSize: 2 });
    expect(first.items.map((r) => r.deviceId)).toEqual(['a', 'b']);
    expect(first.continuationToken).toBeDefined();
    const second = runQuery(registry, sql, { pageSize: 2, continuationToken: first.continuationToken ?? '' });
    expect(second.items.map((r) => r.deviceId)).toEqual(['c']);
    expect(second.continuationToken).toBeUndefined();
    expect(() =>
      runQuery(registry, 'SELECT * FROM devices', { continuationToken: first.continuationToken ?? '' }),
    ).toThrow(/does not belong/);
  });

  it('reads modules only from devices.modules', () => {
    expect(runQuery(registry, 'SELECT * FROM devices.modules').items).toEqual([
      expect.objectContaining({ deviceId: 'a', moduleId: 'm' }),
    ]);
    expect(runQuery(registry, 'SELECT COUNT() AS n FROM devices').items).toEqual([{ n: 5 }]);
  });
});
