import { fitReport, scrubForTwin } from '../../../../../modules/common/src/twin/scrub';
import { jsonByteLength } from '../../../../../modules/common/src/twin/json';

const KEY = 'c2VjcmV0LWtleS1ub3QtdG8tbGVhaw==';

describe('scrubForTwin', () => {
  it('removes secret-shaped text from every string, however deep, arrays included', () => {
    const scrubbed = scrubForTwin({
      routes: {
        a: {
          reason: {
            message: `handshake failed for Endpoint=sb://x/;SharedAccessKeyName=send;SharedAccessKey=${KEY}`,
          },
        },
      },
      problems: [
        { path: '/x', message: `token SharedAccessSignature sr=a&sig=${KEY}&se=1&skn=r was expired` },
      ],
    });
    expect(JSON.stringify(scrubbed)).not.toContain(KEY);
    expect(JSON.stringify(scrubbed)).toContain('[redacted]');
  });

  it('replaces a string under a secret-named field whole, but keeps objects under names chosen by operators', () => {
    const scrubbed = scrubForTwin({
      hybridConnections: { turkey: { status: 'listening', sasToken: 'anything', primaryKey: KEY } },
    });
    expect(scrubbed).toEqual({
      hybridConnections: {
        turkey: { status: 'listening', sasToken: '[redacted]', primaryKey: '[redacted]' },
      },
    });
  });

  it('keeps numbers, booleans and null, and drops undefined', () => {
    expect(scrubForTwin({ a: 1, b: true, c: null, d: undefined } as never)).toEqual({
      a: 1,
      b: true,
      c: null,
    });
  });
});

describe('fitReport', () => {
  const build = (detail: string) => {
    const routes: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++)
      routes[`route${i}`] =
        detail === 'full'
          ? { status: 'listening', counters: { accepted: i, bytes: i * 1000 } }
          : { status: 'listening' };
    return detail === 'summary' ? { routeCounts: { listening: 100 } } : { routes };
  };

  it('keeps full detail when it fits', () => {
    expect(fitReport(build as never, 100_000)).not.toHaveProperty('detail');
  });

  it('falls back to compact, then summary, and says so', () => {
    const full = jsonByteLength(build('full'));
    const compact = jsonByteLength(build('compact'));
    expect(fitReport(build as never, compact + 100)).toMatchObject({ detail: 'compact' });
    expect(compact).toBeLessThan(full);
    expect(fitReport(build as never, 100)).toEqual({ routeCounts: { listening: 100 }, detail: 'summary' });
  });
});
