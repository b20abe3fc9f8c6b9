import { decideLease, readLeaseRecord, type LeaseReading } from '../../../../cloud/src/lease/record';

const reading = (holder: string, generation: number, durationMs = 15_000): LeaseReading => ({
  etag: 'e1',
  record: { holder, generation, durationMs },
});
const base = { me: 'b', myGeneration: undefined, myDurationMs: 15_000, firstSeenMs: 1_000 };

describe('decideLease', () => {
  it('takes a free or released lease at once, with the next generation', () => {
    expect(decideLease({ ...base, reading: reading('', 0), nowMs: 1_000 })).toEqual({
      kind: 'acquire',
      generation: 1,
    });
    expect(decideLease({ ...base, reading: reading('', 7), nowMs: 1_000 })).toEqual({
      kind: 'acquire',
      generation: 8,
    });
  });

  it('waits out a held lease for its duration from when this replica first saw it, then takes it', () => {
    expect(decideLease({ ...base, reading: reading('a', 3), nowMs: 15_999 })).toEqual({
      kind: 'wait',
      holder: 'a',
      untilMs: 16_000,
    });
    expect(decideLease({ ...base, reading: reading('a', 3), nowMs: 16_000 })).toEqual({
      kind: 'acquire',
      generation: 4,
    });
    // A holder with a longer lease than ours is waited out for its own duration.
    expect(decideLease({ ...base, reading: reading('a', 3, 60_000), nowMs: 16_000 }).kind).toBe('wait');
  });

  it('renews its own generation, and does not renew a generation it no longer holds', () => {
    expect(
      decideLease({ ...base, me: 'a', myGeneration: 3, reading: reading('a', 3), nowMs: 1_000 }),
    ).toEqual({ kind: 'renew' });
    expect(
      decideLease({ ...base, me: 'a', myGeneration: undefined, reading: reading('a', 3), nowMs: 1_000 }).kind,
    ).toBe('wait');
  });

  it('reads a missing or malformed record as free at generation 0', () => {
    expect(readLeaseRecord(undefined)).toEqual({ holder: '', generation: 0, durationMs: 0 });
    expect(readLeaseRecord({ lease: { holder: 5, generation: 'x' } })).toEqual({
      holder: '',
      generation: 0,
      durationMs: 0,
    });
  });
});
