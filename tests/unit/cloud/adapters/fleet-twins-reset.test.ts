// A query page lost to a connection reset is read again instead of failing the reconcile. The reset seen at
// 10,000 twins (a keep-alive socket reused after a busy spell) is now avoided by the service clients' agent
// (tests/integration/iothub-keepalive-reuse.test.ts, real sockets); this retry stays for resets of any other
// cause, so here the Registry's query object is a stand-in that fails the way azure-iothub does.
import type { Registry } from 'azure-iothub';
import { IotHubFleetTwins } from '../../../../cloud/src/adapters/fleet-twins';

function registryWithPages(pages: unknown[][], failures: Error[]): { registry: Registry; calls: string[] } {
  const calls: string[] = [];
  const registry = {
    createQuery: () => {
      let page = 0;
      const query = {
        continuationToken: undefined as string | undefined,
        hasMoreResults: true,
        next: async (token?: string) => {
          calls.push(`next(${token ?? ''})`);
          const failure = failures.shift();
          if (failure) throw failure;
          const result = pages[page]!;
          page++;
          query.continuationToken = page < pages.length ? `page-${page}` : undefined;
          query.hasMoreResults = page < pages.length;
          return { result };
        },
      };
      return query;
    },
  } as unknown as Registry;
  return { registry, calls };
}

const twin = (deviceId: string) => ({ deviceId, etag: 'e', tags: { relay: { role: 'gateway' } } });
const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('IotHubFleetTwins query pages', () => {
  it('reads a page again after a connection reset, and keeps every row once', async () => {
    const { registry, calls } = registryWithPages([[twin('a')], [twin('b')]], []);
    const failures = [reset(), new Error('socket hang up')];
    let n = 0;
    const original = registry.createQuery.bind(registry);
    (registry as { createQuery: unknown }).createQuery = (...args: Parameters<Registry['createQuery']>) => {
      const q = original(...args);
      const next = q.next.bind(q);
      // The second page fails twice before it is read.
      (q as { next: unknown }).next = async (token?: string) => {
        n++;
        if (n >= 2 && failures.length > 0) throw failures.shift();
        return next(token as never);
      };
      return q;
    };
    const devices = await new IotHubFleetTwins(registry).queryDevices();
    expect(devices.map((d) => d.deviceId)).toEqual(['a', 'b']);
    expect(calls).toEqual(['next()', 'next(page-1)']);
    expect(n).toBe(4);
  });

  it('gives up after a few resets, and fails at once on anything else', async () => {
    const resets = registryWithPages([[twin('a')]], [reset(), reset(), reset(), reset()]);
    await expect(new IotHubFleetTwins(resets.registry).queryDevices()).rejects.toMatchObject({
      code: 'CONTROLLER_HUB_FAILED',
      message: 'query: read ECONNRESET',
    });
    expect(resets.calls).toHaveLength(4);
    const refused = registryWithPages([[twin('a')]], [new Error('Unauthorized')]);
    await expect(new IotHubFleetTwins(refused.registry).queryDevices()).rejects.toThrow(
      'query: Unauthorized',
    );
    expect(refused.calls).toHaveLength(1);
  });
});
