import { ConfigurationRecord, newConfiguration } from '../../../../sandbox/src/iothub/configuration';
import { foldContributions } from '../../../../sandbox/src/iothub/configuration-fold';
import { JsonObject } from '../../../../sandbox/src/iothub/json';

function config(
  id: string,
  priority: number,
  entry: JsonObject,
  created = '2024-01-01T00:00:00.000Z',
): ConfigurationRecord {
  return newConfiguration(id, { priority, targetCondition: '*', content: { moduleContent: entry } }, created);
}

const c = (record: ConfigurationRecord) => ({ config: record, entry: record.content });

describe('configuration fold', () => {
  it('applies only the highest-priority base, newest first on a tie', () => {
    const low = config('low', 1, { 'properties.desired': { v: 'low' } });
    const high = config('high', 5, { 'properties.desired': { v: 'high' } });
    expect(foldContributions([c(high), c(low)])).toEqual({
      desired: { v: 'high' },
      applied: ['high'],
      targeted: ['high', 'low'],
    });
    const older = config('older', 5, { 'properties.desired': { v: 'older' } }, '2023-01-01T00:00:00.000Z');
    expect(foldContributions([c(high), c(older)]).desired).toEqual({ v: 'high' });
  });

  it('layers paths in ascending priority over the base; a lower layer loses to the base', () => {
    const base = config('base', 10, { 'properties.desired': { routes: { web: 80 }, log: 'info' } });
    const upper = config('upper', 20, {
      'properties.desired.routes.db': 1433,
      'properties.desired.log': 'warn',
    });
    const lower = config('lower', 5, { 'properties.desired.log': 'debug', 'properties.desired.extra': true });
    const result = foldContributions([c(lower), c(base), c(upper)]);
    expect(result.desired).toEqual({ routes: { web: 80, db: 1433 }, log: 'warn' });
    expect(result.applied).toEqual(['base', 'upper']);
  });

  it('returns no desired document when nothing targets the twin', () => {
    expect(foldContributions([])).toEqual({ applied: [], targeted: [] });
  });

  it('validates content and ids when a configuration is created', () => {
    expect(() =>
      newConfiguration('Upper', { content: { deviceContent: { 'properties.desired': {} } } }, 'now'),
    ).toThrow(/lowercase/);
    expect(() => newConfiguration('x', { content: {} }, 'now')).toThrow(/exactly one/);
    expect(() => newConfiguration('x', { content: { moduleContent: { tags: {} } } }, 'now')).toThrow(
      /properties.desired/,
    );
    expect(() =>
      newConfiguration(
        'x',
        { targetCondition: 'tags.a =', content: { moduleContent: { 'properties.desired': {} } } },
        'now',
      ),
    ).toThrow(/syntax/);
  });
});
