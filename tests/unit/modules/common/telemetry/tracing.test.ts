import { propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  endTunnelSpan,
  setTrackingId,
  startTunnelSpan,
  traceHeaders,
  traceReconcile,
} from '../../../../../modules/common/src/telemetry/tracing';
import { RecordingTracer, TraceparentPropagator } from '../../../../support/tracing';

const attrs = { route: 'sql', hybridConnection: 'hc-berlin', location: 'berlin', service: 'sql' };
const TOKEN = 'SharedAccessSignature sr=x&sig=c2lnbmF0dXJl&se=1&skn=send';

describe('tunnel spans', () => {
  it('start as SERVER spans carrying the tunnel dimensions and the relay tracking id', () => {
    const tracer = new RecordingTracer();
    const span = startTunnelSpan(tracer, { module: 'relay-forwarder', attrs, trackingId: 'a1b2' });
    endTunnelSpan(span, { bytes: { toTarget: 10, toClient: 20 } });
    expect(tracer.spans[0]).toMatchObject({
      name: 'tunnel sql',
      kind: SpanKind.SERVER,
      ended: true,
      status: { code: SpanStatusCode.UNSET },
      attributes: {
        module: 'relay-forwarder',
        route: 'sql',
        hybrid_connection: 'hc-berlin',
        location: 'berlin',
        service: 'sql',
        'relay.tracking_id': 'a1b2',
        'relay.bytes.to_target': 10,
        'relay.bytes.to_client': 20,
      },
    });
  });

  it('take the tracking id later, and end in error with the code and a scrubbed message', () => {
    const tracer = new RecordingTracer();
    const span = startTunnelSpan(tracer, {
      module: 'relay-gateway',
      attrs: { route: 'web', hybridConnection: 'h' },
    });
    setTrackingId(span, 'zz9');
    endTunnelSpan(span, { error: { code: 'RELAY_UNAUTHORIZED', message: `401 using ${TOKEN}` } });
    const rec = tracer.spans[0];
    expect(rec.attributes).not.toHaveProperty('location');
    expect(rec.attributes['relay.tracking_id']).toBe('zz9');
    expect(rec.attributes['error.type']).toBe('RELAY_UNAUTHORIZED');
    expect(rec.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: '401 using SharedAccessSignature [redacted]',
    });
  });

  describe('with a W3C propagator registered (as the Azure Monitor distro does)', () => {
    beforeEach(() => propagation.setGlobalPropagator(new TraceparentPropagator()));
    afterEach(() => propagation.disable());

    it('join the gateway and forwarder spans into one trace through the connect headers', () => {
      const tracer = new RecordingTracer();
      const gatewaySpan = startTunnelSpan(tracer, { module: 'relay-gateway', attrs });
      const headers = traceHeaders(gatewaySpan);
      expect(Object.keys(headers)).toEqual(['traceparent']);
      // The relay hands the sender's headers to the listener; casing may differ.
      const forwarderSpan = startTunnelSpan(tracer, {
        module: 'relay-forwarder',
        attrs,
        parentHeaders: { TraceParent: headers.traceparent },
      });
      endTunnelSpan(forwarderSpan);
      endTunnelSpan(gatewaySpan);
      const [gw, fw] = tracer.spans;
      expect(fw.parentTraceId).toBe(gw.spanContext.traceId);
      expect(fw.parentSpanId).toBe(gw.spanContext.spanId);
    });

    it('start a new trace when the headers carry none', () => {
      const tracer = new RecordingTracer();
      startTunnelSpan(tracer, { module: 'relay-forwarder', attrs, parentHeaders: { 'x-other': 'y' } });
      expect(tracer.spans[0].parentSpanId).toBeUndefined();
    });
  });

  it('produce no headers when no propagator is registered', () => {
    const tracer = new RecordingTracer();
    expect(traceHeaders(startTunnelSpan(tracer, { module: 'm', attrs }))).toEqual({});
  });
});

describe('traceReconcile', () => {
  it('returns the result inside an ended span', async () => {
    const tracer = new RecordingTracer();
    await expect(traceReconcile(tracer, 'fleet-controller', async () => 42)).resolves.toBe(42);
    expect(tracer.spans[0]).toMatchObject({
      name: 'reconcile',
      ended: true,
      attributes: { module: 'fleet-controller' },
    });
  });

  it('records a failure with its code, scrubs it, and rethrows the original error', async () => {
    const tracer = new RecordingTracer();
    const err = Object.assign(new Error(`ARM said no to ${TOKEN}`), { code: 'ARM_FORBIDDEN' });
    await expect(traceReconcile(tracer, 'fleet-controller', async () => Promise.reject(err))).rejects.toBe(
      err,
    );
    const rec = tracer.spans[0];
    expect(rec.ended).toBe(true);
    expect(rec.attributes['error.type']).toBe('ARM_FORBIDDEN');
    expect(rec.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(rec)).not.toContain('c2lnbmF0dXJl');
    expect(rec.exceptions[0]).toMatchObject({
      name: 'Error',
      message: 'ARM said no to SharedAccessSignature [redacted]',
    });
  });
});
