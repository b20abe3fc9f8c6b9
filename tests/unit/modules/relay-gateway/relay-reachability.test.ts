import { RelayReachability } from '../../../../modules/relay-gateway/src/relay-reachability';

const opts = { stallMs: 5_000, minFailures: 3, holdMs: 30_000 };

describe('RelayReachability', () => {
  it('counts handshakes unanswered for stallMs, once each, and judges the relay unreachable after three', () => {
    const r = new RelayReachability(opts);
    for (const id of ['a', 'b', 'c']) r.started(id, 'ns', 0);
    expect(r.verdict(4_999)).toEqual({ nextChangeAtMs: 5_000 });
    expect(r.verdict(5_000).unreachable).toEqual([{ namespace: 'ns', failures: 3, code: 'RELAY_STALLED' }]);
    // The same handshakes failing later (connect timeout) are not counted again.
    for (const id of ['a', 'b', 'c']) r.failed(id, 'ns', 'RELAY_TIMEOUT', 15_000);
    expect(r.verdict(15_000).unreachable).toEqual([{ namespace: 'ns', failures: 3, code: 'RELAY_STALLED' }]);
  });

  it('clears on any answer, and forgets evidence after holdMs', () => {
    const r = new RelayReachability(opts);
    for (const id of ['a', 'b', 'c']) r.failed(id, 'ns', 'RELAY_NETWORK', 1_000);
    expect(r.verdict(1_000).unreachable).toHaveLength(1);
    r.answered(undefined, 'ns', 2_000);
    expect(r.verdict(2_000).unreachable).toBeUndefined();
    for (const id of ['d', 'e', 'f']) r.failed(id, 'ns', 'RELAY_NETWORK', 3_000);
    expect(r.verdict(32_999).unreachable).toHaveLength(1);
    expect(r.verdict(33_000)).toEqual({});
  });

  it('stays reachable while another namespace in use answers, and ignores aborted handshakes', () => {
    const r = new RelayReachability(opts);
    for (const id of ['a', 'b', 'c']) r.failed(id, 'ns-1', 'RELAY_NETWORK', 0);
    r.answered('x', 'ns-2', 0);
    expect(r.verdict(1).unreachable).toBeUndefined();
    r.retain(new Set(['ns-1']));
    expect(r.verdict(1).unreachable).toHaveLength(1);
    r.started('y', 'ns-3', 0);
    r.forget('y');
    expect(r.verdict(10_000).unreachable?.map((n) => n.namespace)).toEqual(['ns-1']);
  });
});
