import { drainTunnels, type Drainable } from '../../../../../modules/relay-forwarder/src/runtime/drain';

class FakeTunnel implements Drainable {
  readonly done: Promise<void>;
  aborts: string[] = [];
  private ended = false;
  private resolve!: () => void;

  constructor() {
    this.done = new Promise((r) => (this.resolve = r));
  }

  end(): void {
    this.ended = true;
    this.resolve();
  }

  abort(reason: string): boolean {
    if (this.ended) return false;
    this.aborts.push(reason);
    this.end();
    return true;
  }
}

describe('drainTunnels', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets tunnels finish on their own before the deadline', async () => {
    const a = new FakeTunnel();
    const b = new FakeTunnel();
    const drained = drainTunnels([a, b], 1000, 'removed');
    a.end();
    await jest.advanceTimersByTimeAsync(500);
    b.end();
    expect(await drained).toBe(0);
    expect(a.aborts).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('aborts what is still running at the deadline', async () => {
    const a = new FakeTunnel();
    const b = new FakeTunnel();
    let settled = false;
    const drained = drainTunnels([a, b], 1000, 'removed').then((n) => {
      settled = true;
      return n;
    });
    a.end();
    await jest.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await drained).toBe(1);
    expect(b.aborts).toEqual(['removed']);
  });

  it('aborts at once with a zero drain time, and returns at once with nothing to drain', async () => {
    const a = new FakeTunnel();
    expect(await drainTunnels([a], 0, 'now')).toBe(1);
    expect(await drainTunnels([], 1000, 'none')).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
