// One span per tunneled connection on each side, joined into one trace: the gateway sends W3C trace context and
// the relay tracking id (sb-hc-id) on its connect request, the sandbox relay hands them to the forwarder.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SPAN_ATTR } from '../../modules/common/src/telemetry/tracing';
import {
  forwarderOnline,
  LOCATION,
  route,
  SITE,
  startObservabilityWorld,
  type ObservabilityWorld,
} from '../support/observability-world';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import type { RecordedSpan } from '../support/tracing';
import { patternBytes, sha256 } from '../support/tunnel-harness';

describe('tunnel spans on both sides share one trace (sandbox relay, TLS)', () => {
  let world: ObservabilityWorld;

  beforeAll(async () => {
    world = await startObservabilityWorld();
    const applied = world.forwarder.applyDocument(
      world.forwarderDocument({
        echo: { target: `127.0.0.1:${world.echo.port}` },
        down: { target: `127.0.0.1:${world.downPort}` },
      }),
    );
    expect(applied.ok).toBe(true);
    expect(
      (await world.gateway.applyDocument(world.gatewayDocument({ echo: route('echo'), down: route('down') })))
        .ok,
    ).toBe(true);
    await forwarderOnline(world.forwarder);
  });

  afterAll(async () => {
    await world?.close();
  });

  const ended = (spans: RecordedSpan[], routeId: string): RecordedSpan[] =>
    spans.filter((s) => s.ended && s.attributes.route === routeId);

  it('joins the forwarder span to the gateway span, both with the relay tracking id and the bytes', async () => {
    const payload = patternBytes(200_000, 3);
    const client = await connectClient(world.port('echo'));
    client.socket.end(payload);
    const end = await client.ended;
    expect(sha256(end.received)).toBe(sha256(payload));
    await eventually(
      () =>
        ended(world.gatewayTracer.spans, 'echo').length === 1 &&
        ended(world.forwarderTracer.spans, 'echo').length === 1,
      'both spans ended',
      10_000,
    );
    const [g] = ended(world.gatewayTracer.spans, 'echo');
    const [f] = ended(world.forwarderTracer.spans, 'echo');
    expect(g!.name).toBe('tunnel echo');
    expect(g!.kind).toBe(SpanKind.SERVER);
    expect(f!.name).toBe('tunnel echo');
    // One trace: the forwarder's span is a child of the gateway's.
    expect(f!.spanContext.traceId).toBe(g!.spanContext.traceId);
    expect(f!.parentSpanId).toBe(g!.spanContext.spanId);
    // The same relay tracking id on both ends: the gateway's connection id, sent as sb-hc-id.
    const trackingId = g!.attributes[SPAN_ATTR.trackingId];
    expect(typeof trackingId).toBe('string');
    expect(f!.attributes[SPAN_ATTR.trackingId]).toBe(trackingId);
    expect(g!.attributes).toMatchObject({
      module: 'relay-gateway',
      hybrid_connection: SITE,
      service: 'echo',
      [SPAN_ATTR.bytesToTarget]: payload.length,
      [SPAN_ATTR.bytesToClient]: payload.length,
    });
    expect(f!.attributes).toMatchObject({
      module: 'relay-forwarder',
      hybrid_connection: SITE,
      location: LOCATION,
      [SPAN_ATTR.bytesToTarget]: payload.length,
      [SPAN_ATTR.bytesToClient]: payload.length,
    });
    expect([g!.status.code, f!.status.code]).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET]);
  });

  it('ends both spans of a refused connection in error, in one trace, with stable codes', async () => {
    const client = await connectClient(world.port('down'));
    client.socket.end('x');
    await client.ended;
    await eventually(
      () =>
        ended(world.gatewayTracer.spans, 'down').length === 1 &&
        ended(world.forwarderTracer.spans, 'down').length === 1,
      'both spans ended',
      10_000,
    );
    const [g] = ended(world.gatewayTracer.spans, 'down');
    const [f] = ended(world.forwarderTracer.spans, 'down');
    expect(f!.spanContext.traceId).toBe(g!.spanContext.traceId);
    expect(f!.parentSpanId).toBe(g!.spanContext.spanId);
    expect(f!.attributes[SPAN_ATTR.trackingId]).toBe(g!.attributes[SPAN_ATTR.trackingId]);
    expect(g!.status.code).toBe(SpanStatusCode.ERROR);
    expect(g!.attributes[SPAN_ATTR.errorType]).toBe('target-refused');
    expect(f!.status.code).toBe(SpanStatusCode.ERROR);
    expect(f!.attributes[SPAN_ATTR.errorType]).toBe('refused');
  });

  it('gives every admitted connection exactly one span per side', async () => {
    const before = { g: world.gatewayTracer.spans.length, f: world.forwarderTracer.spans.length };
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const client = await connectClient(world.port('echo'));
        client.socket.end(`hello ${i}`);
        expect((await client.ended).received.toString()).toBe(`hello ${i}`);
      }),
    );
    await eventually(
      () =>
        world.gatewayTracer.spans.slice(before.g).filter((s) => s.ended).length === 10 &&
        world.forwarderTracer.spans.slice(before.f).filter((s) => s.ended).length === 10,
      'twenty spans ended',
      10_000,
    );
    const gateway = world.gatewayTracer.spans.slice(before.g);
    const forwarder = world.forwarderTracer.spans.slice(before.f);
    expect(new Set(gateway.map((s) => s.spanContext.traceId)).size).toBe(10);
    const parents = new Map(gateway.map((s) => [s.spanContext.spanId, s.attributes[SPAN_ATTR.trackingId]]));
    for (const span of forwarder)
      expect(parents.get(span.parentSpanId!)).toBe(span.attributes[SPAN_ATTR.trackingId]);
  });
});
