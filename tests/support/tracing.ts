import { randomBytes } from 'node:crypto';
import {
  Attributes,
  AttributeValue,
  Context,
  context as contextApi,
  Exception,
  Link,
  Span,
  SpanContext,
  SpanKind,
  SpanOptions,
  SpanStatus,
  SpanStatusCode,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  TimeInput,
  trace,
  TraceFlags,
  Tracer,
} from '@opentelemetry/api';

/** A finished-or-not span as a test sees it. */
export interface RecordedSpan {
  name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  status: SpanStatus;
  readonly exceptions: Exception[];
  readonly spanContext: SpanContext;
  /** The parent's span id, when the span was started under one (including one extracted from headers). */
  readonly parentSpanId?: string;
  readonly parentTraceId?: string;
  ended: boolean;
}

/** An OpenTelemetry API Tracer that records spans in memory, for asserting what our helpers put on them. */
export class RecordingTracer implements Tracer {
  /** Every span started, in order. */
  readonly spans: RecordedSpan[] = [];

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const record: RecordedSpan = {
      name,
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: { ...options.attributes },
      status: { code: SpanStatusCode.UNSET },
      exceptions: [],
      spanContext: {
        traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: TraceFlags.SAMPLED,
      },
      parentSpanId: parent?.spanId,
      parentTraceId: parent?.traceId,
      ended: false,
    };
    this.spans.push(record);
    return new RecordingSpan(record);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    const options = typeof a === 'function' ? {} : a;
    const ctx = typeof b === 'object' ? b : contextApi.active();
    const fn = (typeof a === 'function' ? a : typeof b === 'function' ? b : c) as F;
    const span = this.startSpan(name, options, ctx);
    return contextApi.with(trace.setSpan(ctx, span), () => fn(span)) as ReturnType<F>;
  }
}

class RecordingSpan implements Span {
  constructor(private readonly record: RecordedSpan) {}

  spanContext(): SpanContext {
    return this.record.spanContext;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(_name: string, _attributesOrStartTime?: Attributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(_endTime?: TimeInput): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(exception: Exception, _time?: TimeInput): void {
    this.record.exceptions.push(exception);
  }
}

/**
 * A minimal W3C `traceparent` propagator (what the Azure Monitor distro registers), so tests can check that our
 * helpers inject and extract trace context without pulling in an SDK.
 */
export class TraceparentPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (sc) setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, 'traceparent');
    const value = Array.isArray(raw) ? raw[0] : raw;
    const m = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/.exec(value) : null;
    if (!m) return ctx;
    return trace.setSpanContext(ctx, {
      traceId: m[1],
      spanId: m[2],
      traceFlags: Number(m[3]),
      isRemote: true,
    });
  }

  fields(): string[] {
    return ['traceparent'];
  }
}
