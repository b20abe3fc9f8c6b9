import {
  decodeWarmMeta,
  encodeWarmMeta,
  WARM_META_MAX_BYTES,
  withWarmMeta,
} from '../../../../../modules/common/src/tunnel/warm-meta';

describe('warm connection client metadata (hrf:meta)', () => {
  it('round-trips the per-client headers, lower-casing names', () => {
    const frame = encodeWarmMeta({ 'X-Hrf-Client': '203.0.113.7:1', traceparent: 't' });
    expect(frame).toBe('hrf:meta {"x-hrf-client":"203.0.113.7:1","traceparent":"t"}');
    expect(decodeWarmMeta(Buffer.from(frame!))).toEqual({
      headers: { 'x-hrf-client': '203.0.113.7:1', traceparent: 't' },
    });
  });

  it('cannot carry a header outside the per-client set or a frame over the bound (the client opens cold)', () => {
    expect(encodeWarmMeta({ 'x-other': '1' })).toBeUndefined();
    expect(encodeWarmMeta({ tracestate: 'a'.repeat(WARM_META_MAX_BYTES) })).toBeUndefined();
  });

  it.each([
    ['too large', `hrf:meta {"tracestate":"${'a'.repeat(WARM_META_MAX_BYTES)}"}`],
    ['no prefix', '{"traceparent":"t"}'],
    ['not JSON', 'hrf:meta {'],
    ['an array', 'hrf:meta ["x"]'],
    ['null', 'hrf:meta null'],
    ['an unknown name', 'hrf:meta {"x-hrf-warm":"1"}'],
    ['an upper-case name', 'hrf:meta {"X-Hrf-Client":"203.0.113.7:1"}'],
    ['a non-string value', 'hrf:meta {"x-hrf-client":["203.0.113.7:1"]}'],
  ])('refuses a frame that is %s', (_what, text) => {
    expect(decodeWarmMeta(Buffer.from(text))).toHaveProperty('problem');
  });

  it('metadata replaces every per-client connect header and keeps the others', () => {
    const merged = withWarmMeta(
      { 'X-HRF-CLIENT': '198.51.100.1:1', traceparent: 'old', 'x-hrf-warm': '1' },
      { 'x-hrf-client': '203.0.113.7:2' },
    );
    expect(merged).toEqual({ 'x-hrf-warm': '1', 'x-hrf-client': '203.0.113.7:2' });
  });
});
