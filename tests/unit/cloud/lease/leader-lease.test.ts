// LeaderLease against an in-memory store with IoT Hub's etag rule (a write with a stale etag is refused): one of
// two replicas leads; the other takes over only after the leader can no longer write, and at once after a release.
// Short real timers; the assertions are about order and exclusion, never about how long anything took.
import pino from 'pino';
import { ControllerError } from '../../../../cloud/src/errors';
import { LeaderLease } from '../../../../cloud/src/lease/leader-lease';
import type { LeaseReading, LeaseRecord } from '../../../../cloud/src/lease/record';
import type { LeaseStore } from '../../../../cloud/src/lease/store';

class MemoryLeaseStore implements LeaseStore {
  private version = 1;
  private record: LeaseRecord = { holder: '', generation: 0, durationMs: 0 };
  /** Replicas whose calls fail, as if IoT Hub were unreachable from them. */
  readonly cutOff = new Set<string>();

  constructor(private readonly caller: () => string) {}

  async read(): Promise<LeaseReading> {
    this.check();
    return { etag: String(this.version), record: { ...this.record } };
  }

  async write(record: LeaseRecord, etag: string): Promise<LeaseReading> {
    this.check();
    if (etag !== String(this.version))
      throw new ControllerError('CONTROLLER_ETAG_MISMATCH', 'precondition failed', true, 412);
    this.record = { ...record };
    this.version++;
    return { etag: String(this.version), record: { ...this.record } };
  }

  private check(): void {
    if (this.cutOff.has(this.caller()))
      throw new ControllerError('CONTROLLER_HUB_FAILED', 'unreachable', true);
  }
}

// Each replica gets a view of the shared store that knows who is calling.
function replica(shared: { store?: MemoryLeaseStore; current?: string }, name: string) {
  shared.store ??= new MemoryLeaseStore(() => shared.current ?? '');
  const store = shared.store;
  // The store checks the caller synchronously, before its first await, so this is the replica calling.
  const view: LeaseStore = {
    read: () => ((shared.current = name), store.read()),
    write: (r, e) => ((shared.current = name), store.write(r, e)),
  };
  return new LeaderLease({
    store: view,
    holderId: name,
    logger: pino({ level: process.env.LEASE_LOG ?? 'silent' }),
    durationMs: 1_000,
    renewIntervalMs: 250,
    retryIntervalMs: 100,
    guardMs: 200,
  });
}

const elected = (lease: LeaderLease) => new Promise<number>((resolve) => lease.once('elected', resolve));

/** `promise`, or a rejection naming `what` after a generous 15 s (a lease that never changes hands). */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), 15_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('LeaderLease', () => {
  const leases: LeaderLease[] = [];
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.stop()));
  });

  it('elects one of two; after a release the other takes over with the next generation', async () => {
    const shared: { store?: MemoryLeaseStore; current?: string } = {};
    const a = replica(shared, 'a');
    const b = replica(shared, 'b');
    leases.push(a, b);
    const aElected = elected(a);
    a.start();
    expect(await within(aElected, 'a elected')).toBe(1);
    const bElected = elected(b);
    b.start();
    // b stands by while a renews: several of b's reads pass without a takeover.
    await new Promise((r) => setTimeout(r, 600));
    expect(b.generation()).toBeUndefined();
    expect(a.generation()).toBe(1);
    await a.stop();
    expect(a.generation()).toBeUndefined();
    expect(await within(bElected, 'b elected after the release')).toBe(2);
  });

  it('a leader cut off from IoT Hub stops counting itself leader before the standby takes over', async () => {
    const shared: { store?: MemoryLeaseStore; current?: string } = {};
    const a = replica(shared, 'a');
    const b = replica(shared, 'b');
    leases.push(a, b);
    const aElected = elected(a);
    a.start();
    await within(aElected, 'a elected');
    b.start();
    const aDeposed = new Promise<string>((resolve) => a.once('deposed', (_g, reason) => resolve(reason)));
    let aHeldWhenBElected: number | undefined = -1;
    b.once('elected', () => (aHeldWhenBElected = a.generation()));
    const bElected = elected(b);
    shared.store!.cutOff.add('a');
    expect(await within(aDeposed, 'a deposed')).toBe('the lease could not be renewed in time');
    expect(await within(bElected, 'b elected')).toBe(2);
    expect(aHeldWhenBElected).toBeUndefined();
    // a's writes would be refused anyway: the record moved on.
    expect(() => a.assertHeld(1)).toThrow('no longer held');
  });
});
