import { classifyTunnelEnd, classifyTunnelFailure } from '../../../../modules/relay-gateway/src/reasons';
import { failureMetricReason } from '../../../../modules/relay-gateway/src/observability';
import { tunnelErrorForCode } from '../../../../modules/common/src/tunnel';
import { RelayError } from '../../../../modules/common/src/hc/errors';

describe('classifyTunnelFailure', () => {
  it.each([
    [4404, 'unknown-service'],
    [4403, 'service-disabled'],
    [4429, 'service-busy'],
    [4502, 'target-refused'],
    [4503, 'target-unresolved'],
    [4504, 'target-timeout'],
    [4500, 'target-error'],
    [1009, 'message-too-big'],
  ])('maps the forwarder close code %i to %s', (code, reason) => {
    expect(classifyTunnelFailure(tunnelErrorForCode(code, ''))).toBe(reason);
  });

  it('maps relay answers and lets an abort reason win', () => {
    expect(classifyTunnelFailure(new RelayError('RELAY_NO_LISTENER', 'x', true, 404))).toBe('no-listener');
    expect(classifyTunnelFailure(new RelayError('RELAY_FORBIDDEN', 'x', false, 403))).toBe('forbidden');
    expect(classifyTunnelFailure(new Error('boom'))).toBe('internal-error');
    expect(classifyTunnelFailure(new Error('boom'), 'client-closed')).toBe('client-closed');
  });
});

describe('classifyTunnelEnd', () => {
  it('maps a message above the size bound to message-too-big', () => {
    expect(classifyTunnelEnd(tunnelErrorForCode(1009))).toBe('message-too-big');
    expect(classifyTunnelEnd(tunnelErrorForCode(4410))).toBe('peer-reset');
  });
});

describe('failureMetricReason', () => {
  it('gives a message above the size bound its own label, not other', () => {
    expect(failureMetricReason(classifyTunnelFailure(tunnelErrorForCode(1009, '')))).toBe('message_too_big');
    expect(failureMetricReason('relay-timeout')).toBe('other');
  });
});
